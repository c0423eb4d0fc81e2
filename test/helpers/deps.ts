/** Real dependencies for tests: a fresh in-memory SQLite with the real migrations, fixed clock, test keys. */
import { parseConfig, type RawEnv } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import type { LogLevel } from '../../src/lib/log.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { applyMigrations, openSqlite } from '../../src/runtime/node/sqlite.ts'
import { createApp } from '../../src/app.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'

export const TEST_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'
export const TEST_NOW = Date.UTC(2026, 10, 29, 9, 0, 0)

export interface LogLine {
  level: LogLevel
  msg: string
  [key: string]: unknown
}

export function fixedClock(start = TEST_NOW) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => void (now += ms),
    set: (ms: number) => void (now = ms),
  }
}

export async function testDeps(env: RawEnv = {}, overrides: Partial<Deps> = {}) {
  const sqlite = openSqlite(':memory:')
  applyMigrations(sqlite)
  const config = parseConfig({ APP_SECRET: TEST_SECRET, PUBLIC_URL: 'http://gateway.test', ...env })
  const logs: LogLine[] = []
  const clock = fixedClock()
  const mail = memoryMailTransport()
  const deps = await nodeDeps({
    mail,
    config: { ...config, appSecret: config.appSecret ?? TEST_SECRET },
    sqlite,
    clock,
    logger: jsonLogger((line) => logs.push(JSON.parse(line) as LogLine), 'debug'),
  })
  Object.assign(deps, overrides)
  return { deps, sqlite, logs, clock, mail }
}

export async function testApp(env: RawEnv = {}, overrides: Partial<Deps> = {}) {
  const t = await testDeps(env, overrides)
  return { ...t, app: createApp(t.deps) }
}

/** The parts of a `subscribe()` call that tests rarely vary: add `email` and `purposes`. */
export const API_CONSENT = {
  locale: 'fr' as const,
  method: 'api' as const,
  source: 'test',
  actor: 'api:test',
  evidence: { ip: '192.0.2.1' },
}

/** Delivers outbox messages until nothing is due (one message per ordering key per round). */
export async function drainOutbox(deps: Parameters<typeof deliverOutbox>[0]): Promise<void> {
  while ((await deliverOutbox(deps)).delivered > 0);
}
