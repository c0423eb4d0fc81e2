/**
 * @module The scenarios on the large seeded database (bench/seed/): BENCH_CONTACTS contacts (default
 * 1,000,000) with five consent events each, built through the gateway's own code and cached. The
 * reliability and scale issue asks for the gate by e-mail, the batch gate, webhook intake and the
 * preference page there, each within its usual target and with the server's peak RSS (VmHWM) under
 * 300 MB, and for the in-process rows and the relay to keep their targets at that size; and for the
 * build itself to run at >= 25 % of a raw insert of as many rows of the same size. The in-process
 * reads are compared with a raw primary-key lookup on the same database (a table of a million rows
 * does not stay in SQLite's page cache, a 100,000-row one does). The admin console's issue measures
 * its dashboard here too: >= 15 % of the page floor with the server's peak RSS under 300 MB, its
 * figures read from the daily counters the build filled with the events. Each name ends in "(seeded:
 * N contacts)", so that BENCH_ONLY=seeded runs them all.
 */
import type { BaselineName, Scenario } from '../types.ts'
import { benchContacts } from '../seed/work-copy.ts'
import { EVENTS_PER_CONTACT } from '../seed/history.ts'
import { gateBatchByEmailSeeded, gateByIdSeeded, recordEventSeeded } from './consent-ops.ts'
import { DASHBOARD_REQUEST, INTAKE_FIXED_RATES, PAGE_HEADERS, gateBody } from './shared.ts'
import { nextWebhook, WEBHOOK_HEADERS } from '../apps/webhook-requests.ts'

/** The servers' memory ceiling on the large database. */
const RSS = { maxPeakRssMb: 300 }

export function seededScenarios(): (Scenario & { baseline: BaselineName })[] {
  const contacts = benchContacts()
  const at = `(seeded: ${contacts.toLocaleString('en-US')} contacts)`
  let n = 0
  return [
    {
      name:
        `build the seeded database: ${(contacts * EVENTS_PER_CONTACT).toLocaleString('en-US')} ` +
        `events, states, a checkpoint ${at}`,
      kind: 'seed',
      baseline: 'sqlite-insert',
      seeded: true,
      target: { minRatio: 0.25 },
    },
    {
      name: `gate decision by contact id ${at}`,
      kind: 'inproc',
      baseline: 'sqlite-pk-seeded',
      seeded: true,
      setup: gateByIdSeeded,
      target: { minRatio: 0.5 },
    },
    {
      name: `record a consent event (ledger + state + outbox) ${at}`,
      kind: 'inproc',
      baseline: 'sqlite-insert',
      seeded: true,
      setup: recordEventSeeded,
      target: { minRatio: 0.25 },
    },
    {
      name: `batch gate by e-mail, 1,000 per call (per contact) ${at}`,
      kind: 'inproc',
      baseline: 'sqlite-pk-seeded',
      seeded: true,
      setup: gateBatchByEmailSeeded,
      itemsPerOp: 1_000,
      target: { minRatio: 0.4 },
    },
    {
      name: `POST /api/v1/gate, one contact by e-mail ${at}`,
      kind: 'http',
      baseline: 'post-floor',
      seeded: true,
      app: 'gateway-seeded',
      // Addresses from all over the database, a different one every request.
      request: {
        method: 'POST',
        path: '/api/v1/gate',
        next: () => ({ body: gateBody((n++ * 7_919) % contacts) }),
      },
      target: { minRatio: 0.5, ...RSS },
    },
    {
      name: `POST /hooks/mautic, a new 5 KB event each request ${at}`,
      kind: 'http',
      baseline: 'hono-bare',
      seeded: true,
      app: 'gateway-seeded',
      request: {
        method: 'POST',
        path: '/hooks/mautic',
        headers: WEBHOOK_HEADERS,
        next: nextWebhook,
      },
      target: { minRatio: 0.1, ...RSS },
      fixedRates: INTAKE_FIXED_RATES.map((f) => ({ ...f, target: { ...f.target, ...RSS } })),
    },
    {
      name: `preference page GET /p/{token} ${at}`,
      kind: 'http',
      baseline: 'page-floor',
      seeded: true,
      app: 'gateway-seeded',
      // The pages of 2,000 contacts spread over the database, in turn.
      request: {
        path: '/p/{preferencesToken}',
        headers: PAGE_HEADERS,
        next: () => ({ path: '/p/{preferencesToken}' }),
      },
      target: { minRatio: 0.4, ...RSS },
    },
    {
      name: `admin dashboard GET /admin, signed in ${at}`,
      kind: 'http',
      baseline: 'page-floor',
      seeded: true,
      app: 'gateway-dashboard-seeded',
      // A viewer signed in on the copy when its server starts (bench/apps/dashboard-app.ts).
      request: DASHBOARD_REQUEST,
      target: { minRatio: 0.15, ...RSS },
    },
    {
      name: `SMTP relay, 50 KB HTML mail, one recipient each ${at}`,
      kind: 'smtp',
      baseline: 'smtp-pass-through',
      seeded: true,
      app: 'relay-seeded',
      expectReply: 'OK: forwarded to 1 recipient',
      target: { minRatio: 0.5 },
    },
  ]
}
