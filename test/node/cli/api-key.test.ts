// `consent-gateway api-key …` through the real bin in a child process, against a temporary database.
import { mkdtempSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { verifyApiKey } from '../../../src/domain/platform/api-keys.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { openSqlite } from '../../../src/runtime/node/sqlite.ts'
import { TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin, type Spawned } from '../../helpers/spawn.ts'

// afterAll, not afterEach: the usage cases run concurrently, and one ending must not kill the others.
const running: Spawned[] = []
afterAll(() => {
  for (const s of running.splice(0)) s.child.kill('SIGKILL')
})

/** Runs the bin to completion; standard output and standard error apart. */
async function run(args: string[], cwd: string, env: Record<string, string>) {
  const s = spawnBin(args, { cwd, env })
  running.push(s)
  let stdout = ''
  let stderr = ''
  s.child.stdout!.on('data', (d) => (stdout += d))
  s.child.stderr!.on('data', (d) => (stderr += d))
  const code = await s.exited
  return { code, stdout, stderr }
}

function setup() {
  const cwd = mkdtempSync(join(tmpdir(), 'cg-api-key-'))
  const databasePath = join(cwd, 'gateway.db')
  return { cwd, databasePath, env: { DATABASE_PATH: databasePath, APP_SECRET: TEST_SECRET } }
}

async function openDeps(databasePath: string) {
  const sqlite = openSqlite(databasePath)
  const config = parseConfig({ APP_SECRET: TEST_SECRET, DATABASE_PATH: databasePath })
  return { sqlite, deps: await nodeDeps({ config: { ...config, appSecret: TEST_SECRET }, sqlite }) }
}

describe('consent-gateway api-key', () => {
  it('create prints the key alone on the last line of stdout; it verifies; list and revoke', async () => {
    const { cwd, databasePath, env } = setup()
    const created = await run(
      ['api-key', 'create', '--name', 'Mautic campaign', '--scopes', 'campaign, gate'],
      cwd,
      env,
    )
    expect(created.code).toBe(0)
    const lines = created.stdout.trimEnd().split('\n')
    const key = lines.at(-1)!
    expect(key).toMatch(/^cgk_[a-z2-7]{12}_[A-Za-z0-9_-]{43}$/)
    expect(lines).toEqual([key])
    expect(created.stderr).toContain('Mautic campaign')
    expect(created.stderr).toContain('shown only once')
    expect(created.stderr).not.toContain(key)

    const { sqlite, deps } = await openDeps(databasePath)
    try {
      expect(await verifyApiKey(deps, key)).toEqual({
        id: key.slice(4, 16),
        name: 'Mautic campaign',
        scopes: ['gate', 'campaign'],
      })
    } finally {
      sqlite.close()
    }

    const listed = await run(['api-key', 'list'], cwd, env)
    expect(listed.code).toBe(0)
    expect(listed.stdout).toContain(key.slice(4, 16))
    expect(listed.stdout).toContain('gate,campaign')
    expect(listed.stdout).not.toContain(key.slice(17))

    const revoked = await run(['api-key', 'revoke', '--id', key.slice(4, 16)], cwd, env)
    expect(revoked.code).toBe(0)
    const again = await openDeps(databasePath)
    try {
      expect(await verifyApiKey(again.deps, key)).toBeNull()
    } finally {
      again.sqlite.close()
    }
    expect((await run(['api-key', 'revoke', '--id', key.slice(4, 16)], cwd, env)).code).toBe(1)
  }, 60_000) // five child processes in a row

  // Concurrently: each case is a child process that spends most of its time starting up.
  it.concurrent.for([
    [['api-key', 'create', '--name', 'x'], /needs --name and --scopes/],
    [['api-key', 'create', '--scopes', 'gate'], /needs --name and --scopes/],
    [['api-key', 'create', '--name', 'x', '--scopes', 'gate,sudo'], /unknown scope "sudo"/],
    [['api-key', 'create', '--name', 'x', '--scopes', 'gate', '--admin'], /--admin/],
    [['api-key', 'create', '--name'], /--name/],
    [['api-key', 'frobnicate'], /Unknown command "api-key frobnicate"/],
    [['api-key'], /create, list or revoke/],
  ] as const)(
    '%j: usage on stderr, nothing on stdout, exit 2, nothing created',
    { timeout: 60_000 },
    async ([args, message], { expect }) => {
      const { cwd, databasePath, env } = setup()
      const res = await run([...args], cwd, env)
      expect(res.code).toBe(2)
      expect(res.stdout).toBe('')
      expect(res.stderr).toMatch(message)
      expect(res.stderr).toContain('api-key create --name N --scopes s1,s2')
      expect(existsSync(databasePath)).toBe(false)
    },
  )
})
