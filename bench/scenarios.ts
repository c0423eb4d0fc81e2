/**
 * @module What `npm run bench` measures. To add a scenario, append one entry to `scenarios`: an HTTP
 * one names an app from bench/apps.ts and a request; an in-process one gives a `setup` returning the
 * operation to loop over; an SMTP one names a server from bench/mail-apps.ts, put in front of a sink.
 * Each is reported with its ratio to its kind's baseline.
 */
import type { AppName } from './apps.ts'
import type { MailAppName } from './mail-apps.ts'
import { gateBatchByEmail, gateById, recordEvent } from './consent-scenarios.ts'
import { nextWebhook, SAME_BODY, WEBHOOK_HEADERS } from './hook-scenarios.ts'
import { seededEmail } from './seeded-app.ts'
import { sqliteInsertTxn, sqlitePkLookup } from './sqlite-baseline.ts'

export type BaselineName = 'hono-bare' | 'sqlite-pk' | 'sqlite-insert' | 'smtp-pass-through'

/** What a row must show to pass; a row may have either or both. */
export interface Target {
  /** A floor on the scenario's rate as a fraction of its baseline's (0.5 prints as `>= 50 %`). */
  minRatio?: number
  /** A ceiling on p99 latency, in ms (20 prints as `p99 < 20 ms`). */
  maxP99Ms?: number
}

interface Common {
  name: string
  /** The baseline this is compared with; absent on the baselines themselves. */
  baseline?: BaselineName
  target?: Target
}

export interface HttpScenario extends Common {
  kind: 'http'
  baseline?: 'hono-bare'
  app: AppName
  request: {
    method?: string
    /** May hold `{name}` placeholders, filled from the app's `pathParams` (bench/apps.ts). */
    path: string
    headers?: Record<string, string>
    body?: string
    /** A new body (and headers to add) for every request, made in the load generator; sync. */
    next?: () => { body: string | Buffer; headers?: Record<string, string> }
  }
  /**
   * Also measure latency at a fixed rate: `ofMax` times the median rate of this scenario's rounds,
   * sent open loop (bench/open-loop.ts), reported as a row of its own with this target.
   */
  fixedRate?: { ofMax: number; target: Target }
}

/** One unit of in-process work; a returned promise is awaited before the next op starts. */
export interface InprocOp {
  op: () => unknown
  close?: () => void | Promise<void>
}

export interface InprocScenario extends Common {
  kind: 'inproc'
  baseline?: 'sqlite-pk' | 'sqlite-insert'
  /** Runs in a fresh child process (bench/inproc.ts), so imports and state stay out of the parent. */
  setup: () => Promise<InprocOp>
  /** For batch operations: items handled per op, so that the rate is items/s. */
  itemsPerOp?: number
}

/**
 * An SMTP server (bench/mail-apps.ts) in its own process, forwarding to a sink in another, loaded by
 * BENCH_SMTP_CONNECTIONS senders on pooled connections (bench/mail-load.ts), each sending the
 * ~50 KB newsletter of bench/mail-message.ts to the seeded recipients in turn. Rate: messages/s
 * answered 250, which these servers answer once the sink took the message.
 */
export interface SmtpScenario extends Common {
  kind: 'smtp'
  baseline?: 'smtp-pass-through'
  app: Exclude<MailAppName, 'smtp-sink'>
  /** Text every 250 must hold (that the server did its work, not something else). */
  expectReply?: string
}

export type Scenario = HttpScenario | InprocScenario | SmtpScenario

/** Measured in every run, first, so ratios compare numbers taken on the same machine minutes apart. */
export const baselines: Record<BaselineName, Scenario> = {
  'hono-bare': {
    name: 'bare Hono GET /hello',
    kind: 'http',
    app: 'bare',
    request: { path: '/hello' },
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
  // signature (bench/hook-scenarios.ts); "half that rate" is taken as half of the rate measured here.
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
