// `consent-gateway purge [--dry-run]` through the real bin: on the database file, and with --url --key on
// a running gateway through the admin API (a few steps per call until the run is done).
import type { ServerType } from '@hono/node-server'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { createApiKey } from '../../../src/domain/platform/api-keys.ts'
import { jsonLogger } from '../../../src/lib/log.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { serveGateway } from '../../../src/runtime/node/edge.ts'
import { openDatabase } from '../../../src/runtime/node/server.ts'
import { API_CONSENT, TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin } from '../../helpers/spawn.ts'

const YEAR = 365 * 86_400_000

async function run(args: string[], cwd: string, env: Record<string, string>) {
  const s = spawnBin(args, { cwd, env })
  let stdout = ''
  let stderr = ''
  s.child.stdout!.on('data', (d) => (stdout += d))
  s.child.stderr!.on('data', (d) => (stderr += d))
  return { code: await s.exited, stdout, stderr }
}

/** A database with two contacts subscribed four years ago and one last month. */
async function seeded(dir: string) {
  const env = { DATABASE_PATH: join(dir, 'gw.db'), APP_SECRET: TEST_SECRET }
  const sqlite = openDatabase(env.DATABASE_PATH)
  let now = Date.now() - 4 * YEAR
  const deps = await nodeDeps({
    config: { ...parseConfig(env), appSecret: TEST_SECRET },
    sqlite,
    clock: { now: () => now },
    logger: jsonLogger(() => {}),
  })
  const ids: string[] = []
  for (const email of ['old1@exemple.fr', 'old2@exemple.fr', 'new@exemple.fr']) {
    if (email === 'new@exemple.fr') now = Date.now() - YEAR / 12
    const r = await subscribe(deps, { ...API_CONSENT, email, purposes: ['cookies'] })
    if (!r.ok) throw new Error(r.message)
    ids.push(r.contactId)
  }
  const status = () =>
    (sqlite.prepare('SELECT id, status FROM contacts ORDER BY id').all() as any[]).map(
      (r) => `${r.id === ids[2] ? 'new' : 'old'}:${r.status}`,
    )
  return { env, sqlite, deps, ids, status }
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of closers) await c()
})

describe('consent-gateway purge', () => {
  it(
    '--dry-run lists what would go and changes nothing; purge erases it',
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-purge-'))
      const db = await seeded(dir)
      db.sqlite.close()
      const dry = await run(['purge', '--dry-run'], dir, db.env)
      expect(dry.code, dry.stderr).toBe(0)
      const lines = dry.stdout.trim().split('\n')
      expect(lines.map((l) => l.split('\t')[0]).sort()).toEqual([db.ids[0], db.ids[1]].sort())
      expect(lines[0]!.split('\t')).toHaveLength(4)
      expect(dry.stderr).toContain('2 contact(s) with no activity of their own since')
      expect(dry.stderr).toContain('Nothing was changed (--dry-run)')
      const purged = await run(['purge'], dir, db.env)
      expect(purged.code, purged.stderr).toBe(0)
      expect(purged.stderr).toContain('2 contact(s) erased of 3 looked at')
      const after = openDatabase(db.env.DATABASE_PATH)
      try {
        expect(
          (after.prepare('SELECT id, status FROM contacts').all() as any[])
            .map((r) => r.status)
            .sort(),
        ).toEqual(['active', 'erased', 'erased'])
        expect(after.prepare('SELECT trigger, status FROM retention_runs').all()).toEqual([
          { trigger: 'cli', status: 'done' },
        ])
      } finally {
        after.close()
      }
      expect((await run(['purge', '--now'], dir, db.env)).code).toBe(2)
    },
  )

  it(
    '--url --key: the dry run and the run through the admin API',
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-purge-remote-'))
      const db = await seeded(dir)
      const deps = await nodeDeps({
        config: { ...parseConfig(db.env), appSecret: TEST_SECRET },
        sqlite: db.sqlite,
        logger: jsonLogger(() => {}),
      })
      const server = await new Promise<ServerType>((resolve) => {
        const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
      })
      closers.push(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()))
        db.sqlite.close()
      })
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
      const key = await createApiKey(deps, { name: 'ops', scopes: ['admin'] })
      if (!key.ok) throw new Error(key.error)
      const cwd = mkdtempSync(join(tmpdir(), 'cg-purge-cli-'))
      const env = { DATABASE_PATH: join(cwd, 'never.db'), APP_SECRET: TEST_SECRET }
      const remote = ['--url', url, '--key', key.key]
      const [dry, purged] = [
        await run(['purge', '--dry-run', ...remote], cwd, env),
        await run(['purge', ...remote], cwd, env),
      ]
      expect(dry.code, dry.stderr).toBe(0)
      expect(
        dry.stdout
          .trim()
          .split('\n')
          .map((l) => l.split('\t')[0])
          .sort(),
      ).toEqual([db.ids[0], db.ids[1]].sort())
      expect(purged.code, purged.stderr).toBe(0)
      expect(purged.stderr).toContain('2 contact(s) erased of 3 looked at')
      expect(db.status().sort()).toEqual(['new:active', 'old:erased', 'old:erased'])
      // The run is in the audit log, by the key that asked for it.
      expect(
        db.sqlite.prepare("SELECT actor FROM audit_log WHERE action = 'retention.run'").all(),
      ).toEqual([{ actor: `api:${key.apiKey.id}` }])
    },
  )
})
