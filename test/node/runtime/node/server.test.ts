// The real bin in a child process: first run with no configuration, start-up errors, shutdown, migrate.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { spawnBin, type Spawned } from '../../../helpers/spawn.ts'

const running: Spawned[] = []
afterEach(() => {
  for (const s of running.splice(0)) s.child.kill('SIGKILL')
})
const start = (args: string[], opts: Parameters<typeof spawnBin>[1]) => {
  const s = spawnBin(args, opts)
  running.push(s)
  return s
}
const freshDir = () => mkdtempSync(join(tmpdir(), 'cg-start-'))

describe('first run with no configuration', () => {
  it('generates a 0600 development secret, migrates, serves /healthz, prints where to go, stops on SIGTERM', async () => {
    const cwd = freshDir()
    const s = start(['serve'], { cwd, env: { PORT: '0' } })
    const [, url] = await s.waitFor(/running on (http:\/\/127\.0\.0\.1:\d+)/)
    expect(s.output()).toContain('WARNING: APP_SECRET is not set')
    expect(s.output()).toMatch(/Health check:\s+http:\/\/localhost:0\/healthz/)
    // Where to go next (README, "Quick start"): the hosted form, Mautic's webhook, the data-access page.
    expect(s.output()).toMatch(/Hosted form:\s+http:\/\/localhost:0\/subscribe\/default/)
    expect(s.output()).toMatch(/Mautic webhook:\s+http:\/\/localhost:0\/hooks\/mautic/)
    expect(s.output()).toMatch(/Data access:\s+http:\/\/localhost:0\/privacy/)
    // No owner yet: the first owner's one-time set-up link, which opens the set-up page.
    const token =
      /Admin set-up:\s+http:\/\/localhost:0\/admin\/setup\?token=([A-Za-z0-9_-]{43})\s/.exec(
        s.output(),
      )?.[1]
    expect(token).toBeDefined()
    expect((await fetch(`${url}/admin/setup?token=${token}`)).status).toBe(200)
    const secretFile = join(cwd, 'data', 'app-secret')
    expect(statSync(secretFile).mode & 0o777).toBe(0o600)
    expect(readFileSync(secretFile, 'utf8').trim().length).toBeGreaterThanOrEqual(32)
    expect(existsSync(join(cwd, 'data', 'consent-gateway.db'))).toBe(true)

    const res = await fetch(`${url}/healthz`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })

    s.child.kill('SIGTERM')
    expect(await s.exited).toBe(0)
    expect(s.output()).toContain('finishing in-flight requests')
    // A clean close checkpoints the WAL and removes it.
    expect(existsSync(join(cwd, 'data', 'consent-gateway.db-wal'))).toBe(false)
  })

  it('reuses the generated secret on the next start, without a new warning', async () => {
    const cwd = freshDir()
    mkdirSync(join(cwd, 'data'))
    writeFileSync(join(cwd, 'data', 'app-secret'), 'k'.repeat(48), { mode: 0o644 })
    const s = start(['serve'], { cwd, env: { PORT: '0' } })
    await s.waitFor(/running on/)
    expect(s.output()).not.toContain('WARNING')
    expect(statSync(join(cwd, 'data', 'app-secret')).mode & 0o777).toBe(0o600)
  })
})

describe('start-up errors: one clear message, non-zero exit', () => {
  it('refuses to start in production with the log transport, naming the transports that send', async () => {
    const s = start(['serve'], {
      cwd: freshDir(),
      env: { NODE_ENV: 'production', PUBLIC_URL: 'https://c.example', APP_SECRET: 'a'.repeat(40) },
    })
    expect(await s.exited).toBe(1)
    expect(s.output()).toMatch(/MAIL_TRANSPORT=log sends no e-mail.*smtp.*http.*mautic/s)
  })

  it('lists every bad variable at once', async () => {
    const s = start(['serve'], {
      cwd: freshDir(),
      env: {
        PORT: 'abc',
        MAIL_TRANSPORT: 'pigeon',
        NODE_ENV: 'production',
        PUBLIC_URL: 'http://x.example',
      },
    })
    expect(await s.exited).toBe(1)
    const out = s.output()
    expect(out).toContain('Invalid configuration')
    for (const name of [
      'PORT',
      'MAIL_TRANSPORT',
      'APP_SECRET',
      'PUBLIC_URL must start with https://',
    ])
      expect(out).toContain(name)
    expect(out).not.toMatch(/\n\s+at .*\(/) // no stack trace
  })

  it('names the database file that cannot be opened', async () => {
    const cwd = freshDir()
    writeFileSync(join(cwd, 'broken.db'), 'not a database at all '.repeat(100))
    const s = start(['serve'], {
      cwd,
      env: { DATABASE_PATH: './broken.db', APP_SECRET: 'x'.repeat(40) },
    })
    expect(await s.exited).toBe(1)
    expect(s.output()).toMatch(/Cannot open the database at \.\/broken\.db: file is not a database/)
    expect(s.output()).not.toMatch(/\n\s+at .*\(/)
  })

  it('says when the port is taken', async () => {
    const cwd = freshDir()
    const first = start(['serve'], { cwd, env: { PORT: '0', APP_SECRET: 'x'.repeat(40) } })
    const [, port] = await first.waitFor(/running on http:\/\/127\.0\.0\.1:(\d+)/)
    const second = start(['serve'], {
      cwd: freshDir(),
      env: { PORT: port!, APP_SECRET: 'x'.repeat(40) },
    })
    expect(await second.exited).toBe(1)
    expect(second.output()).toContain(`Port ${port} on 127.0.0.1 is already in use`)
  })
})

describe('consent-gateway migrate', () => {
  it('applies the migrations, then reports the database up to date', async () => {
    const cwd = freshDir()
    const first = start(['migrate'], { cwd, env: { DATABASE_PATH: './db/gw.db' } })
    expect(await first.exited).toBe(0)
    expect(first.output()).toContain('Applied 0001_init.sql')
    const second = start(['migrate'], { cwd, env: { DATABASE_PATH: './db/gw.db' } })
    expect(await second.exited).toBe(0)
    expect(second.output()).toContain('is up to date')
  })

  it('rejects an unknown command with the usage', async () => {
    const s = start(['frobnicate'], { cwd: freshDir() })
    expect(await s.exited).toBe(2)
    expect(s.output()).toContain('Unknown command "frobnicate"')
    expect(s.output()).toContain('migrate')
  })
})
