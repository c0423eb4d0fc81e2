// The Worker started as `wrangler dev` and a deployment start it: its modules are evaluated outside
// any request, where workerd refuses what only a request may do (random values, I/O, timers). The
// Workers test pool (test/worker/) evaluates them inside a request, so only a real start-up shows such
// a mistake: a page placeholder drawn at random in a module's global scope once kept the Worker from
// starting at all (src/lib/pages.ts now draws it on first use).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { unstable_startWorker as StartWorker } from 'wrangler'

// Nothing may reach the internet: no telemetry, no error reports, no update check, no request.cf fetch.
Object.assign(process.env, {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
})

const CONFIG = fileURLToPath(new URL('../../../wrangler.toml', import.meta.url))
const persist = mkdtempSync(join(tmpdir(), 'cg-worker-start-'))
let worker: Awaited<ReturnType<typeof StartWorker>> | undefined
let url: URL

beforeAll(async () => {
  const { unstable_startWorker } = await import('wrangler')
  const vars = {
    APP_SECRET: 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    PUBLIC_URL: 'https://gateway.test',
    NODE_ENV: 'development',
    MAIL_TRANSPORT: 'log',
  }
  worker = await unstable_startWorker({
    config: CONFIG,
    bindings: Object.fromEntries(
      Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }]),
    ),
    dev: {
      remote: false,
      persist,
      server: { hostname: '127.0.0.1', port: 0 },
      inspector: false,
      watch: false,
      liveReload: false,
      logLevel: 'warn',
    },
  })
  await worker.ready
  url = await worker.url
}, 120_000)

afterAll(async () => {
  await worker?.dispose()
  rmSync(persist, { recursive: true, force: true })
})

describe('the Worker in local workerd, started as deployed', () => {
  it('starts and answers a probe and a page', async () => {
    const health = await fetch(new URL('/healthz', url))
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    // A page through the views and the page code: a link that is not one gets the page saying so.
    const page = await fetch(new URL('/p/not-a-token', url))
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(await page.text()).toContain('<html')
  })
})
