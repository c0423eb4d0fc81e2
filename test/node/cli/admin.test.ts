// `consent-gateway create-admin` and `--url --key` through the real bin: the set-up link alone on the
// last line of standard output; the same commands acting on a running gateway through its admin API.
import type { ServerType } from '@hono/node-server'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { openSetup } from '../../../src/domain/admin/accounts.ts'
import { createApiKey } from '../../../src/domain/platform/api-keys.ts'
import { jsonLogger } from '../../../src/lib/log.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { serveGateway } from '../../../src/runtime/node/edge.ts'
import { openDatabase } from '../../../src/runtime/node/server.ts'
import { TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin } from '../../helpers/spawn.ts'

async function run(args: string[], cwd: string, env: Record<string, string>) {
  const s = spawnBin(args, { cwd, env })
  let stdout = ''
  let stderr = ''
  s.child.stdout!.on('data', (d) => (stdout += d))
  s.child.stderr!.on('data', (d) => (stderr += d))
  return { code: await s.exited, stdout, stderr }
}

const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const c of closers) await c()
})

describe('create-admin', () => {
  it('prints a one-time set-up link alone on the last line, which opens the set-up of that account', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cg-admin-'))
    const env = {
      DATABASE_PATH: join(cwd, 'gw.db'),
      APP_SECRET: TEST_SECRET,
      PUBLIC_URL: 'https://consent.example',
    }
    const r = await run(['create-admin', '--email', 'Anne@Exemple.fr', '--role', 'dpo'], cwd, env)
    expect(r.code).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines.at(-1)).toMatch(
      /^https:\/\/consent\.example\/admin\/setup\?token=[A-Za-z0-9_-]{43}$/,
    )
    expect(r.stderr).toContain('dpo')

    const sqlite = openDatabase(env.DATABASE_PATH)
    const config = parseConfig(env)
    const deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      logger: jsonLogger(() => {}),
    })
    const access = await openSetup(deps, new URL(lines[0]!).searchParams.get('token')!, undefined)
    expect(access).toMatchObject({
      ok: true,
      kind: 'link',
      user: { role: 'dpo', status: 'invited' },
    })
    sqlite.close()

    const bad = await run(['create-admin', '--email', 'x@y.fr', '--role', 'king'], cwd, env)
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe('')
  }, 60_000)
})

describe('--url --key: the CLI on a running gateway', () => {
  it('creates an admin, creates, lists and revokes API keys, verifies the ledger; a key without admin gets refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-remote-'))
    const config = parseConfig({ APP_SECRET: TEST_SECRET, DATABASE_PATH: join(dir, 'server.db') })
    const sqlite = openDatabase(config.databasePath)
    const deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      logger: jsonLogger(() => {}),
    })
    const server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    closers.push(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      sqlite.close()
    })
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    const admin = await createApiKey(deps, { name: 'ops', scopes: ['admin'] })
    const weak = await createApiKey(deps, { name: 'site', scopes: ['subscribe'] })
    if (!admin.ok || !weak.ok) throw new Error('keys')
    // Another folder, no database there: the commands must not need one.
    const cwd = mkdtempSync(join(tmpdir(), 'cg-remote-cli-'))
    const env = { DATABASE_PATH: join(cwd, 'never.db'), APP_SECRET: TEST_SECRET }
    const remote = ['--url', url, '--key', admin.key]

    const created = await run(
      ['create-admin', '--email', 'ops@staff.example', '--role', 'admin', ...remote],
      cwd,
      env,
    )
    expect(created.code).toBe(0)
    expect(created.stdout.trimEnd().split('\n').at(-1)).toMatch(/\/admin\/setup\?token=/)

    const key = await run(
      ['api-key', 'create', '--name', 'remote', '--scopes', 'gate', ...remote],
      cwd,
      env,
    )
    expect(key.code).toBe(0)
    expect(key.stdout.trim()).toMatch(/^cgk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/)
    const id = key.stdout.trim().split('_')[1]!

    const list = await run(['api-key', 'list', ...remote], cwd, env)
    expect(list.stdout).toContain(id)
    expect(list.stdout).toContain('remote')
    expect((await run(['api-key', 'revoke', '--id', id, ...remote], cwd, env)).code).toBe(0)
    expect((await run(['api-key', 'revoke', '--id', id, ...remote], cwd, env)).code).toBe(1)

    const verified = await run(['verify-ledger', ...remote], cwd, env)
    expect(verified.code).toBe(0)
    expect(verified.stdout).toMatch(/Ledger verified: .* audit entries/)

    const mappings = await run(['mautic', 'mappings', ...remote], cwd, env)
    expect(mappings.code).toBe(0)

    const refused = await run(['api-key', 'list', '--url', url, '--key', weak.key], cwd, env)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/403.*admin/)
    const { existsSync } = await import('node:fs')
    expect(existsSync(env.DATABASE_PATH)).toBe(false)
  }, 120_000)
})
