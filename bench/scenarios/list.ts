/**
 * @module What `npm run bench` measures. To add a scenario, append one entry to `scenarios`: an HTTP
 * one names an app from bench/apps/http-apps.ts and a request; an in-process one gives a `setup`
 * returning the operation to loop over; an SMTP one names a server from bench/apps/mail-apps.ts, put
 * in front of a sink. Each is reported with its ratio to its kind's baseline. The shapes of these
 * entries are in bench/types.ts.
 */
import type { BaselineName, Scenario } from '../types.ts'
import { gateBatchByEmail, gateById, recordEvent } from './consent-ops.ts'
import { nextWebhook, SAME_BODY, WEBHOOK_HEADERS } from '../apps/webhook-requests.ts'
import { seededEmail } from '../apps/seeded-app.ts'
import { mixedRequest } from './mixed-requests.ts'
import { DASHBOARD_REQUEST, INTAKE_FIXED_RATES, PAGE_HEADERS, SEND_BODY } from './shared.ts'
import { seededScenarios } from './seeded.ts'
import { sqliteInsertTxn, sqlitePkLookup, sqlitePkLookupSeeded } from './sqlite-baselines.ts'
import { benchContacts } from '../seed/work-copy.ts'
import { workersBare, workersScenarios } from './workers.ts'

/** Measured in every run, first, so ratios compare numbers taken on the same machine minutes apart. */
export const baselines: Record<BaselineName, Scenario> = {
  'hono-bare': {
    name: 'bare Hono GET /hello',
    kind: 'http',
    app: 'bare',
    request: { path: '/hello' },
  },
  // The floor of a JSON API call: the gate's body posted to a bare Hono route behind the gateway's
  // Node edge (security headers, request id, access log), which parses it and answers a fixed
  // decision: no API key, no blind index, no query. The HTTP gate and send are measured against it.
  'post-floor': {
    name: 'bare Hono JSON POST behind the Node edge, no database (POST floor)',
    kind: 'http',
    app: 'hono-post-edge',
    request: {
      method: 'POST',
      path: '/gate',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: seededEmail(7) }] }),
    },
  },
  // The floor of a page: the preference page the gateway renders, as a fixed string from a bare Hono
  // route behind the same Node edge (no token check, no read, no render). The dashboard too is
  // measured against it.
  'page-floor': {
    name: 'bare Hono GET of the same page, fixed, behind the Node edge (page floor)',
    kind: 'http',
    app: 'hono-page-edge',
    request: { path: '/page', headers: { Accept: 'text/html' } },
  },
  'sqlite-pk': { name: 'better-sqlite3 PK lookup', kind: 'inproc', setup: sqlitePkLookup },
  'sqlite-pk-seeded': {
    name: `better-sqlite3 PK lookup of a contact (seeded: ${benchContacts().toLocaleString('en-US')} contacts)`,
    kind: 'inproc',
    seeded: true,
    setup: sqlitePkLookupSeeded,
  },
  'sqlite-insert': {
    name: 'better-sqlite3 1-row insert txn',
    kind: 'inproc',
    setup: sqliteInsertTxn,
  },
  'smtp-pass-through': {
    name: 'smtp-server → smtp-server pass-through, 50 KB HTML mail',
    kind: 'smtp',
    app: 'smtp-pass-through',
    expectReply: 'OK: passed',
  },
  'workers-bare': workersBare,
}

export const scenarios: (Scenario & { baseline: BaselineName })[] = [
  // Probes hit this every few seconds: middleware stack plus one `SELECT 1`. No target yet.
  {
    name: 'GET /healthz',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway',
    request: { path: '/healthz' },
  },
  // Consent ledger issue: "gate decision by contact id, in-process: >= 50 % of a raw PK lookup".
  {
    name: 'gate decision by contact id',
    kind: 'inproc',
    baseline: 'sqlite-pk',
    setup: gateById,
    target: { minRatio: 0.5 },
  },
  // "Recording a consent event (ledger + state + outbox, atomically): >= 25 % of a raw insert txn".
  {
    name: 'record a consent event (ledger + state + outbox)',
    kind: 'inproc',
    baseline: 'sqlite-insert',
    setup: recordEvent,
    target: { minRatio: 0.25 },
  },
  // Sending issue: "batch gate by e-mail (blind index included), in-process: >= 40 % of a PK lookup".
  {
    name: 'batch gate by e-mail, 1,000 per call (per contact)',
    kind: 'inproc',
    baseline: 'sqlite-pk',
    setup: gateBatchByEmail,
    itemsPerOp: 1_000,
    target: { minRatio: 0.4 },
  },
  // What a JSON POST and one Kysely query cost on this machine, against the POST floor (the issue
  // quotes 61–72 % of it): the yardstick for the HTTP gate's target.
  {
    name: 'bare Hono POST + one Kysely PK lookup (reference)',
    kind: 'http',
    baseline: 'post-floor',
    app: 'hono-kysely',
    request: {
      method: 'POST',
      path: '/lookup',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1_234 }),
    },
  },
  // Reliability and scale issue: "POST /api/v1/gate (one contact by e-mail): >= 50 % of the POST
  // floor".
  {
    name: 'POST /api/v1/gate, one contact by e-mail',
    kind: 'http',
    baseline: 'post-floor',
    app: 'gateway-api',
    request: {
      method: 'POST',
      path: '/api/v1/gate',
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: seededEmail(7) }] }),
    },
    target: { minRatio: 0.5 },
  },
  // The POST floor itself against bare Hono: what the edge and a JSON body cost before any work.
  {
    name: 'bare Hono JSON POST behind the Node edge (the POST floor, reference)',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'hono-post-edge',
    request: {
      method: 'POST',
      path: '/gate',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: seededEmail(7) }] }),
    },
  },
  // "POST /api/v1/send with injection, transport excluded (an in-memory sink): >= 40 % of the POST
  // floor."
  {
    name: 'POST /api/v1/send with link injection',
    kind: 'http',
    baseline: 'post-floor',
    app: 'gateway-api',
    request: {
      method: 'POST',
      path: '/api/v1/send',
      body: SEND_BODY,
    },
    target: { minRatio: 0.4 },
  },
  // Mautic connector issue: "webhook intake (signature check, parse, durable write) of a realistic
  // 5 KB payload: >= 10 % of a bare Hono endpoint's requests/s"; the reliability issue adds "p99 <
  // 20 ms at 25 % of its highest rate and p99 < 5 ms at 100 webhooks/s, each fixed-rate run at least
  // 20 s" (Mautic posts one event at a time from inside its own requests). Every request is a new
  // event with its own signature (bench/apps/webhook-requests.ts).
  {
    name: 'POST /hooks/mautic, a new 5 KB event each request',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-hooks',
    request: { method: 'POST', path: '/hooks/mautic', headers: WEBHOOK_HEADERS, next: nextWebhook },
    target: { minRatio: 0.1 },
    fixedRates: INTAKE_FIXED_RATES,
  },
  // The same body over and over: a signature check, a parse and a receipt lookup, no write. No target.
  {
    name: 'POST /hooks/mautic, the same 5 KB body again (duplicate)',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-hooks',
    request: {
      method: 'POST',
      path: '/hooks/mautic',
      headers: { ...WEBHOOK_HEADERS, 'Webhook-Signature': SAME_BODY.signature },
      body: SAME_BODY.body,
    },
  },
  // Reliability and scale issue: "preference page: >= 40 % of the page floor (the same page as a
  // fixed string behind the edge)". One seeded contact (newsletter and cookies granted), its token
  // made where the app is seeded.
  {
    name: 'preference page GET /p/{token}',
    kind: 'http',
    baseline: 'page-floor',
    app: 'gateway-api',
    request: { path: '/p/{preferencesToken}', headers: PAGE_HEADERS },
    target: { minRatio: 0.4 },
  },
  // The page floor itself against bare Hono: what serving those 5 KB behind the edge costs.
  {
    name: 'bare Hono GET of the same page, fixed, behind the Node edge (the page floor, reference)',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'hono-page-edge',
    request: { path: '/page', headers: { Accept: 'text/html' } },
  },
  // Admin console, part 2: "the dashboard … >= 15 % of the page floor (the fixed page behind the Node
  // edge) in the same run", here on a small database of 90 days with every kind of figure (or the
  // one at BENCH_DASHBOARD_DB); the seeded database's row, with the RSS ceiling, is in
  // bench/scenarios/seeded.ts. A signed-in viewer's session.
  {
    name: 'admin dashboard GET /admin, signed in',
    kind: 'http',
    baseline: 'page-floor',
    app: 'gateway-dashboard',
    request: DASHBOARD_REQUEST,
    target: { minRatio: 0.15 },
  },
  // Sending issue: "Relay with 50 KB HTML mails: >= 50 % of the messages/s of a plain smtp-server →
  // smtp-server pass-through". The real relay on the seeded database, logged in as `newsletter`: the
  // gate at RCPT TO and again after DATA, the contact's links, the MIME rewrite, then the upstream.
  {
    name: 'SMTP relay, 50 KB HTML mail, one recipient each',
    kind: 'smtp',
    baseline: 'smtp-pass-through',
    app: 'relay',
    expectReply: 'OK: forwarded to 1 recipient',
    target: { minRatio: 0.5 },
  },
  // Reliability and scale issue: "mixed traffic (webhooks, gate calls, pages, one-click POSTs) held
  // at 1,000 requests/s for 60 s on loopback with zero errors, p99 reported". Open loop only: each
  // request due at its time (bench/load/open-loop.ts); its row fails on any error or non-2xx.
  {
    name: 'mixed load: webhooks, gate calls, preference pages, one-click POSTs',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-api',
    request: { method: 'POST', path: '/hooks/mautic', next: mixedRequest },
    openLoopOnly: true,
    fixedRates: [{ rate: 1_000, minDurationS: 60, target: {} }],
  },
  ...seededScenarios(),
  ...workersScenarios(),
]

export function findScenario(name: string): Scenario | undefined {
  return [...Object.values(baselines), ...scenarios].find((s) => s.name === name)
}
