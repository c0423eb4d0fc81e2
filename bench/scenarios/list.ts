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
import { sqliteInsertTxn, sqlitePkLookup } from './sqlite-baselines.ts'

/** Measured in every run, first, so ratios compare numbers taken on the same machine minutes apart. */
export const baselines: Record<BaselineName, Scenario> = {
  'hono-bare': {
    name: 'bare Hono GET /hello',
    kind: 'http',
    app: 'bare',
    request: { path: '/hello' },
  },
  // The page floor as a baseline of its own, for pages measured against it (the dashboard): the
  // preference page as a fixed string behind the gateway's Node edge, as the reference row below.
  'page-floor': {
    name: 'page floor: a fixed 5 KB page behind the Node edge',
    kind: 'http',
    app: 'hono-page-edge',
    request: { path: '/page', headers: { Accept: 'text/html' } },
  },
  'sqlite-pk': { name: 'better-sqlite3 PK lookup', kind: 'inproc', setup: sqlitePkLookup },
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
  // The yardstick the sending issue quotes for the HTTP gate ("Kysely over HTTP measured ~41 %
  // here"), measured in the same run: what a JSON POST and one Kysely query cost on this machine.
  {
    name: 'bare Hono POST + one Kysely PK lookup (reference)',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'hono-kysely',
    request: {
      method: 'POST',
      path: '/lookup',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 1_234 }),
    },
  },
  // "Gate over HTTP: >= 40 % of a bare Hono endpoint's requests/s."
  {
    name: 'POST /api/v1/gate, one contact by e-mail',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-api',
    request: {
      method: 'POST',
      path: '/api/v1/gate',
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: seededEmail(7) }] }),
    },
    target: { minRatio: 0.4 },
  },
  // The HTTP gate's floor, measured in the same run: the same body posted to a bare Hono route
  // behind the gateway's Node edge (security headers, request id, access log), which parses it and
  // answers a fixed decision: no API key, no blind index, no query. No target.
  {
    name: 'bare Hono JSON POST behind the Node edge, no database (reference)',
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
  // "/api/v1/send with injection, transport excluded (an in-memory sink): >= 25 % of bare Hono."
  {
    name: 'POST /api/v1/send with link injection',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-api',
    request: {
      method: 'POST',
      path: '/api/v1/send',
      body: JSON.stringify({
        purpose: 'newsletter',
        to: seededEmail(11),
        subject: 'Nouveautés',
        html: `<html><body>${'<p>Bonjour, voici nos nouveautés du mois.</p>'.repeat(40)}</body></html>`,
        text: 'Bonjour, voici nos nouveautés du mois.\n'.repeat(40),
      }),
    },
    target: { minRatio: 0.25 },
  },
  // Mautic connector issue: "webhook intake (signature check, parse, durable write) of a realistic
  // 5 KB payload: >= 10 % of a bare Hono endpoint's requests/s, and p99 under 20 ms at half that rate
  // (Mautic waits on us inside its own requests)". Every request is a new event with its own
  // signature (bench/apps/webhook-requests.ts); "half that rate" is taken as half of the rate
  // measured here.
  {
    name: 'POST /hooks/mautic, a new 5 KB event each request',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-hooks',
    request: { method: 'POST', path: '/hooks/mautic', headers: WEBHOOK_HEADERS, next: nextWebhook },
    target: { minRatio: 0.1 },
    fixedRate: { ofMax: 0.5, target: { maxP99Ms: 20 } },
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
  // Contact pages issue: "preference page render >= 20 % of a bare Hono endpoint's requests/s".
  // One seeded contact (newsletter and cookies granted), its token made where the app is seeded.
  {
    name: 'preference page GET /p/{token}',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'gateway-api',
    request: {
      path: '/p/{preferencesToken}',
      headers: { Accept: 'text/html', 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.8' },
    },
    target: { minRatio: 0.2 },
  },
  // The preference page's floor, measured in the same run: the same 5 KB page behind the same Node
  // edge, as a fixed string (no token check, no read, no render). No target.
  {
    name: 'bare Hono GET of the same page, fixed, behind the Node edge (reference)',
    kind: 'http',
    baseline: 'hono-bare',
    app: 'hono-page-edge',
    request: { path: '/page', headers: { Accept: 'text/html' } },
  },
  // Admin console, part 2: "the dashboard … >= 15 % of the page floor (the fixed page behind the Node
  // edge) in the same run, the server's peak RSS (VmHWM) under 300 MB", on the seeded database
  // (BENCH_DASHBOARD_DB; a small one seeded at start without it). A signed-in viewer's session.
  {
    name: 'admin dashboard GET /admin, signed in',
    kind: 'http',
    baseline: 'page-floor',
    app: 'gateway-dashboard',
    request: {
      path: '/admin',
      headers: { Accept: 'text/html', 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.8' },
    },
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
]

export function findScenario(name: string): Scenario | undefined {
  return [...Object.values(baselines), ...scenarios].find((s) => s.name === name)
}
