/**
 * @module The Workers rows: the gateway in local workerd on a local D1 (bench/workers/harness.ts),
 * against a bare Hono app served by the same Worker, same run, rounds alternating. The reliability
 * and scale issue asks for the gate, a webhook and the preference page there as ratios, without
 * targets: workerd under `wrangler dev` on a shared machine says what the gateway costs over an empty
 * Worker, not what Cloudflare's edge serves. Each name starts with "workers:", so that
 * BENCH_ONLY=workers runs them all.
 */
import type { BaselineName, Scenario, WorkersScenario } from '../types.ts'
import { gateBody, PAGE_HEADERS } from './shared.ts'
import { nextWebhook, WEBHOOK_HEADERS } from '../apps/webhook-requests.ts'

const WHERE = '(local workerd, D1)'

/** The baseline: the bare Hono app of the same Worker (bench/workers/entry.ts). */
export const workersBare: WorkersScenario = {
  name: `workers: bare Hono GET /bare/hello, same Worker ${WHERE}`,
  kind: 'workers',
  request: { path: '/bare/hello' },
}

export function workersScenarios(): (Scenario & { baseline: BaselineName })[] {
  return [
    // The gate by address, as the Node row 'POST /api/v1/gate, one contact by e-mail': the API key,
    // the blind index, one D1 query.
    {
      name: `workers: POST /api/v1/gate, one contact by e-mail ${WHERE}`,
      kind: 'workers',
      baseline: 'workers-bare',
      request: { method: 'POST', path: '/api/v1/gate', body: gateBody(7) },
    },
    // A new signed 5 KB event each request: the signature, the parse, one durable write in D1; the
    // Worker then processes the event after answering (ctx.waitUntil: each request's own delivery
    // pass), as deployed.
    {
      name: `workers: POST /hooks/mautic, a new 5 KB event each request ${WHERE}`,
      kind: 'workers',
      baseline: 'workers-bare',
      request: {
        method: 'POST',
        path: '/hooks/mautic',
        headers: WEBHOOK_HEADERS,
        next: nextWebhook,
      },
    },
    // The same with nothing done after the answer (bench/workers/entry.ts): the intake alone, as
    // the Node intake row measures it (there the events stay queued).
    {
      name: `workers: POST /hooks/mautic, a new 5 KB event each request, intake only ${WHERE}`,
      kind: 'workers',
      baseline: 'workers-bare',
      request: {
        method: 'POST',
        path: '/hooks/mautic',
        headers: { ...WEBHOOK_HEADERS, 'X-Bench-No-Wait-Until': '1' },
        next: nextWebhook,
      },
    },
    // One seeded contact's page (newsletter and cookies granted), its token made with the Worker's
    // APP_SECRET where the D1 was seeded.
    {
      name: `workers: preference page GET /p/{token} ${WHERE}`,
      kind: 'workers',
      baseline: 'workers-bare',
      request: { path: '/p/{preferencesToken}', headers: PAGE_HEADERS },
    },
  ]
}
