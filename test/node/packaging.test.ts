// What a production install needs (README "Quick start", .ci/run): every package the gateway loads
// at run time is a dependency, so `npm ci --omit=dev` starts; the relay's SMTP server is loaded only
// when the relay is configured. And .dev.vars (it holds APP_SECRET for `wrangler dev`) is never committed.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BIN, spawnBin } from '../helpers/spawn.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const REFUSE_DEV = fileURLToPath(
  new URL('../fixtures/refuse-dev-dependencies.mjs', import.meta.url),
)

describe('production install', () => {
  it('starts and answers /healthz with no devDependency installed, relay off', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cg-prod-'))
    const s = spawnBin(['serve'], {
      cwd,
      env: { PORT: '0', NODE_OPTIONS: `--import ${REFUSE_DEV}` },
    })
    try {
      const [, url] = await s.waitFor(/consent-gateway is running on (http:\/\/\S+)/, 30_000)
      const res = await fetch(`${url}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok' })
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
    expect(s.output()).not.toContain('ERR_MODULE_NOT_FOUND')
  })

  it('lists every package src/ imports at run time under dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    // The hook refuses exactly the devDependencies: loading the relay under it must work too.
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        REFUSE_DEV,
        '--import',
        'tsx',
        '-e',
        "await import('./src/runtime/node/relay/server.ts')",
      ],
      { cwd: ROOT, encoding: 'utf8' },
    )
    expect(r.stderr).not.toContain('devDependency')
    expect(r.status).toBe(0)
    expect(pkg.dependencies).toHaveProperty('smtp-server')
    expect(pkg.dependencies).toHaveProperty('tsx') // `npm start` is node --import tsx
    expect(BIN).toBeTruthy()
  })
})

describe('.dev.vars', () => {
  it('is ignored by git (it holds APP_SECRET), and its documented example is not', () => {
    const ignored = (path: string) =>
      spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: ROOT }).status === 0
    expect(ignored('.dev.vars')).toBe(true)
    expect(ignored('.dev.vars.example')).toBe(false)
    expect(readFileSync(join(ROOT, '.dev.vars.example'), 'utf8')).toMatch(/^NODE_ENV=development$/m)
  })
})
