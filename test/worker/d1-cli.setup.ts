// Runs in Node before the workers tests (vitest globalSetup): the real `consent-gateway` command with
// --d1-sql, as README "Deploying to Cloudflare Workers" tells a user to, and hands the SQL it wrote
// (and the API key it printed) to test/worker/d1-admin.test.ts, which applies it to D1 in workerd.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setupServer } from 'msw/node'
import type { TestProject } from 'vitest/node'
import { runMautic } from '../../src/cli/mautic.ts'
import { useD1Target, withDeps } from '../../src/cli/context.ts'
import { mauticFake } from '../helpers/mautic-fake.ts'
import { BIN } from '../helpers/spawn.ts'

export const WORKER_APP_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

export interface D1CliResults {
  /** `api-key create --name first-admin --scopes admin --d1-sql …`: the key printed, the SQL written. */
  firstKey: { key: string; sql: string }
  /** `mautic connect --d1-sql …` against the Mautic fake: the SQL, and the webhook's secret in Mautic. */
  connect: { sql: string; webhookSecret: string; stdout: string }
  /** `mautic map-email --email 12 --purpose newsletter --d1-sql …`. */
  mapEmail: { sql: string }
  /** `mautic sync --d1-sql …` of a Mautic holding one contact, its Mautic id. */
  sync: { sql: string; mauticId: number }
}

declare module 'vitest' {
  export interface ProvidedContext {
    d1Cli: D1CliResults
  }
}

export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'cg-d1-'))
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    APP_SECRET: WORKER_APP_SECRET,
    PUBLIC_URL: 'https://gateway.test',
  }
  // As a user would: the bin, in a directory of its own.
  const first = spawnSync(
    process.execPath,
    [
      BIN,
      '--d1-sql',
      'first-key.sql',
      'api-key',
      'create',
      '--name',
      'first-admin',
      '--scopes',
      'admin',
    ],
    { cwd: dir, env: env as unknown as NodeJS.ProcessEnv, encoding: 'utf8' },
  )
  if (first.status !== 0) throw new Error(`api-key create --d1-sql failed:\n${first.stderr}`)
  const firstKey = {
    key: first.stdout.trim(),
    sql: readFileSync(join(dir, 'first-key.sql'), 'utf8'),
  }

  // The Mautic commands talk to Mautic from this machine: run in-process, Mautic faked with msw.
  const mautic = mauticFake('https://mautic.test')
  const server = setupServer(...mautic.handlers)
  server.listen({ onUnhandledRequest: 'error' })
  const changed = { ...env, ...mautic.env, MAUTIC_WEBHOOK_SECRET: undefined }
  const saved = Object.fromEntries(Object.keys(changed).map((k) => [k, process.env[k]]))
  const setEnv = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values))
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
  }
  setEnv(changed)
  const run = async (out: string, args: string[]) => {
    const stdout: string[] = []
    const stderr: string[] = []
    useD1Target({ sqlOut: join(dir, out), command: `mautic ${args.join(' ')}` })
    const code = await runMautic(args, withDeps, {
      out: async (s) => void stdout.push(s),
      err: (s) => void stderr.push(s),
    })
    useD1Target(undefined)
    if (code !== 0)
      throw new Error(`mautic ${args.join(' ')} --d1-sql failed:\n${stderr.join('\n')}`)
    return { sql: readFileSync(join(dir, out), 'utf8'), stdout: stdout.join('\n') }
  }
  try {
    const connected = await run('connect.sql', ['connect'])
    const mapped = await run('map-email.sql', [
      'map-email',
      '--email',
      '12',
      '--purpose',
      'newsletter',
    ])
    const paul = mautic.addContact({ email: 'w.sync@exemple.fr', fields: { firstname: 'Paul' } })
    const synced = await run('sync.sql', ['sync'])
    project.provide('d1Cli', {
      firstKey,
      connect: { ...connected, webhookSecret: mautic.webhooks[0]!.secret },
      mapEmail: { sql: mapped.sql },
      sync: { sql: synced.sql, mauticId: paul.id },
    })
  } finally {
    server.close()
    setEnv(saved)
    rmSync(dir, { recursive: true, force: true })
  }
}
