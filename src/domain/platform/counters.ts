/**
 * @module Daily counters: what the dashboard plots and `GET /metrics` reads (src/domain/operations/metrics.ts), kept up to date as
 * events land, so that no view counts the ledger (`daily_counters`, migrations/0013_console_counters.sql;
 * docs/architecture.md, "Daily counters"). Every counter is one name, a UTC day and up to three
 * dimensions, listed here once; counts only, never who (accountability, GDPR Art. 5(2), without
 * personal data).
 *
 * Written in the atomic unit of what they count (a ledger event, a webhook receipt, a data-subject
 * request), except the refusals of the API gate and send routes: those are gathered in memory and
 * written together at most a second later (one unit for all of them), because a write per call would
 * be a database commit on a path that otherwise only reads (docs/architecture.md says what it cost).
 * A process killed in that second loses those few counts, never an event.
 */
import type { CompiledQuery } from 'kysely'
import type { ConsentEventRow } from '../../db/repositories/ledger.ts'
import {
  addCounterForNewDsrQuery,
  addCounterQuery,
  addOptinConfirmedQuery,
  backfillLedgerQueries,
  backfillReceiptQueries,
  finishReceiptBackfillQuery,
  listBackfills,
  listCounters,
  moveWebhookOutcomeQueries,
  nextLedgerBatchEnd,
  nextReceiptBatchEnd,
  type Bucket,
} from '../../db/repositories/counters.ts'
import type { Deferrer, Deps } from '../../deps.ts'

/** Every counter and what its dimensions hold, in order (`dim1`, `dim2`, `dim3`). */
export const COUNTERS = {
  /** Ledger events by the UTC day they occurred: purpose, action (requested … erased). */
  consent_events: ['purpose', 'action'],
  /** Double opt-in requests (the `requested` events): purpose, source (form, API key, Mautic form). */
  optin_requested: ['purpose', 'source'],
  /**
   * Confirmations by double opt-in: purpose, source, and the time since the purpose's latest
   * `requested` event as a CONFIRM_BUCKETS label (medians come from these buckets).
   */
  optin_confirmed: ['purpose', 'source', 'waited'],
  /** Sends the gate refused: SEND_PLACES, purpose ('' when none was named yet), gate reason. */
  sends_refused: ['place', 'purpose', 'reason'],
  /**
   * Mautic webhook events by the day of receipt: Mautic's event type, outcome (`queued` until the
   * event is processed, then applied, stale, echo, recorded; ignored for a type the gateway skips).
   */
  webhook_events: ['type', 'outcome'],
  /** Mautic webhook deliveries refused whole: why (src/mautic/webhook-health.ts, RefusalReason). */
  webhook_refused: ['reason'],
  /** Data-subject requests received: kind (access … object), channel (self_service, admin). */
  dsr_received: ['kind', 'channel'],
} as const satisfies Record<string, readonly string[]>

export type CounterName = keyof typeof COUNTERS
export type CounterDims<N extends CounterName> = Record<(typeof COUNTERS)[N][number], string>

/** Where a send was refused: the API gate, the send API, the relay (at RCPT TO, after DATA), a campaign. */
export const SEND_PLACES = [
  'gate_api',
  'send_api',
  'relay_rcpt',
  'relay_data',
  'campaign_gate',
] as const
export type SendPlace = (typeof SEND_PLACES)[number]

/** Time to confirm a double opt-in: each bucket holds durations up to its bound (the last, the rest). */
export const CONFIRM_BUCKETS: readonly Bucket[] = [
  { label: '1m', upToMs: 60_000 },
  { label: '5m', upToMs: 300_000 },
  { label: '15m', upToMs: 900_000 },
  { label: '1h', upToMs: 3_600_000 },
  { label: '6h', upToMs: 21_600_000 },
  { label: '1d', upToMs: 86_400_000 },
  { label: '3d', upToMs: 259_200_000 },
  { label: '7d', upToMs: 604_800_000 },
  { label: '30d', upToMs: 2_592_000_000 },
  { label: 'more', upToMs: Infinity },
]

export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

const dimsOf = <N extends CounterName>(name: N, dims: CounterDims<N>): string[] =>
  (COUNTERS[name] as readonly string[]).map((d) => (dims as Record<string, string>)[d] ?? '')

/** Adds `count` to a counter on the UTC day of `at`: for the atomic unit of what it counts. */
export function counterQuery<N extends CounterName>(
  name: N,
  dims: CounterDims<N>,
  at: number,
  count = 1,
): CompiledQuery {
  return addCounterQuery({ name, day: utcDay(at), dims: dimsOf(name, dims), count, at })
}

/** The counters one ledger event adds to, to write right after its row (src/domain/consent/ledger.ts). */
export function ledgerCounterQueries(
  e: Pick<
    ConsentEventRow,
    'contact_id' | 'seq' | 'purpose_key' | 'action' | 'method' | 'source' | 'occurred_at'
  >,
): CompiledQuery[] {
  const at = e.occurred_at
  const queries = [counterQuery('consent_events', { purpose: e.purpose_key, action: e.action }, at)]
  if (e.action === 'requested')
    queries.push(counterQuery('optin_requested', { purpose: e.purpose_key, source: e.source }, at))
  if (e.action === 'confirmed' && e.method === 'double_opt_in')
    queries.push(
      addOptinConfirmedQuery(
        {
          contactId: e.contact_id,
          seq: e.seq,
          purpose: e.purpose_key,
          source: e.source,
          occurredAt: at,
        },
        utcDay(at),
        CONFIRM_BUCKETS,
      ),
    )
  return queries
}

/** A data-subject request received, counted once even when its insert is repeated (derived ids). */
export function dsrReceivedQuery(r: {
  id: string
  kind: string
  channel: string
  received_at: number
}): CompiledQuery {
  return addCounterForNewDsrQuery(r.id, {
    name: 'dsr_received' satisfies CounterName,
    day: utcDay(r.received_at),
    dims: dimsOf('dsr_received', { kind: r.kind, channel: r.channel }),
    at: r.received_at,
  })
}

/** Webhook events recorded in one intake unit, by type and outcome: one query per pair. */
export function webhookEventCounterQueries(
  counts: Map<string, { type: string; outcome: string; n: number }>,
  at: number,
): CompiledQuery[] {
  return [...counts.values()].map((c) =>
    counterQuery('webhook_events', { type: c.type, outcome: c.outcome }, at, c.n),
  )
}

/** A processed event's count moves from `queued` to its outcome (before the receipt's update). */
export const webhookOutcomeQueries = (key: string, outcome: string, now: number) =>
  moveWebhookOutcomeQueries(key, outcome, now)

// Refusals on the API's hot path: gathered here, written together.

interface Pending {
  name: CounterName
  day: string
  dims: string[]
  count: number
  at: number
}
interface Tally {
  pending: Map<string, Pending>
  timer?: ReturnType<typeof setTimeout>
  flushing?: Promise<void>
}
type CounterDeps = Pick<Deps, 'db' | 'atomic' | 'clock' | 'logger'>

/** How long refusals wait in memory before their write (one unit for all of them). */
export const TALLY_FLUSH_MS = 1_000

const tallies = new WeakMap<object, Tally>()

/** The UTC day of `now`, computed again only when a day ends (the tally runs once per refusal). */
let today = { from: 0, to: 0, day: '' }
function dayNow(now: number): string {
  if (now < today.from || now >= today.to) {
    const from = now - (now % 86_400_000)
    today = { from, to: from + 86_400_000, day: utcDay(now) }
  }
  return today.day
}
const tallyOf = (deps: Pick<Deps, 'db'>) => {
  let t = tallies.get(deps.db)
  if (!t) tallies.set(deps.db, (t = { pending: new Map() }))
  return t
}

/** Counts sends the gate refused at `place`, one per reason given (in memory until the next flush). */
export function tallyRefusals(
  deps: Pick<Deps, 'db' | 'clock'>,
  place: SendPlace,
  purpose: string,
  reasons: Iterable<string>,
): boolean {
  const now = deps.clock.now()
  const day = dayNow(now)
  const { pending } = tallyOf(deps)
  let any = false
  for (const reason of reasons) {
    any = true
    const key = `${day}\u0000${place}\u0000${purpose}\u0000${reason}`
    const p = pending.get(key)
    if (p) {
      p.count++
      p.at = now
    } else
      pending.set(key, {
        name: 'sends_refused',
        day,
        dims: [place, purpose, reason],
        count: 1,
        at: now,
      })
  }
  return any
}

/** Writes every count gathered in memory, in one unit; on failure they stay for the next flush. */
export function flushCounters(deps: CounterDeps): Promise<void> {
  const t = tallyOf(deps)
  clearTimeout(t.timer)
  t.timer = undefined
  if (t.flushing) return t.flushing.then(() => flushCounters(deps))
  if (t.pending.size === 0) return Promise.resolve()
  const batch = [...t.pending.values()]
  t.pending = new Map()
  t.flushing = deps
    .atomic(batch.map((p) => addCounterQuery(p)))
    .catch((err: unknown) => {
      for (const p of batch) {
        const key = `${p.day}\u0000${p.dims.join('\u0000')}`
        const again = t.pending.get(key)
        if (again) again.count += p.count
        else t.pending.set(key, p)
      }
      deps.logger.log('error', 'daily counters: write failed, kept for the next one', { err })
    })
    .finally(() => (t.flushing = undefined))
  return t.flushing
}

/**
 * After a request that counted refusals: on Workers the write goes out after the response
 * (`waitUntil`), since an isolate may not live a second more; on Node within TALLY_FLUSH_MS.
 */
export function scheduleCounterFlush(deps: CounterDeps, defer?: () => Deferrer | undefined): void {
  const deferrer = defer?.()
  if (deferrer) {
    deferrer.waitUntil(flushCounters(deps))
    return
  }
  const t = tallyOf(deps)
  if (t.timer || t.pending.size === 0) return
  t.timer = setTimeout(() => void flushCounters(deps), TALLY_FLUSH_MS)
  ;(t.timer as { unref?: () => void }).unref?.()
}

/** Counts now, in a unit of its own: for places off the hot path (the relay, the campaign gate). */
export async function countNow<N extends CounterName>(
  deps: Pick<Deps, 'atomic' | 'clock'>,
  name: N,
  dims: CounterDims<N>[],
): Promise<void> {
  if (dims.length === 0) return
  const now = deps.clock.now()
  await deps.atomic(dims.map((d) => counterQuery(name, d, now)))
}

/** Counts sends the gate refused at `place` now, one per reason given (the relay, the campaign gate). */
export const countRefusals = (
  deps: Pick<Deps, 'atomic' | 'clock'>,
  place: SendPlace,
  purpose: string,
  reasons: readonly string[],
) =>
  countNow(
    deps,
    'sends_refused',
    reasons.map((reason) => ({ place, purpose, reason })),
  )

// Reading

export interface CounterPoint<N extends CounterName> {
  day: string
  dims: CounterDims<N>
  count: number
}

/** A counter's days from `days - 1` days before today (UTC) to today, oldest first. */
export async function readCounters<N extends CounterName>(
  deps: Pick<Deps, 'db' | 'clock'>,
  name: N,
  days: number,
): Promise<CounterPoint<N>[]> {
  const since = utcDay(deps.clock.now() - (days - 1) * 86_400_000)
  const names = COUNTERS[name] as readonly string[]
  return (await listCounters(deps.db, name, since))
    .filter((r) => r.count !== 0)
    .map((r) => ({
      day: r.day,
      dims: Object.fromEntries(
        names.map((d, i) => [d, [r.dim1, r.dim2, r.dim3][i]!]),
      ) as CounterDims<N>,
      count: r.count,
    }))
}

/**
 * The median of a histogram of CONFIRM_BUCKETS counts, interpolated within its bucket; `open` when it
 * falls in the last, unbounded bucket (then `ms` is that bucket's lower bound).
 */
export function medianOfBuckets(counts: ReadonlyMap<string, number>): {
  ms: number
  open: boolean
} | null {
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const half = total / 2
  let below = 0
  let lower = 0
  for (const b of CONFIRM_BUCKETS) {
    const n = counts.get(b.label) ?? 0
    if (n > 0 && below + n >= half) {
      if (b.upToMs === Infinity) return { ms: lower, open: true }
      return { ms: Math.round(lower + ((half - below) / n) * (b.upToMs - lower)), open: false }
    }
    below += n
    lower = b.upToMs
  }
  return { ms: lower, open: true }
}

// The backfill of what was recorded before the counters existed

export interface BackfillProgress {
  finished: boolean
  done: number
  total: number
}

/** How far the counters are from holding what the ledger and the receipts held before 0013. */
export async function backfillProgress(deps: Pick<Deps, 'db'>): Promise<BackfillProgress> {
  const rows = await listBackfills(deps.db)
  const total = rows.reduce((a, r) => a + r.total, 0)
  const done = rows.reduce((a, r) => a + Math.min(r.done, r.total), 0)
  return { finished: rows.every((r) => r.finished_at !== null || r.done >= r.total), done, total }
}

/**
 * Counts what was recorded before the counters existed, a batch (one atomic unit) at a time, until
 * done or `budgetMs` is spent (one batch at least): a scheduled job, so that on D1 no statement
 * outlasts its limits. Each batch starts from the cursor as stored: two runners at once (two
 * processes, two cron invocations) never count a row twice (the batches check the cursor, and the
 * receipts their `counted` mark).
 */
export async function backfillCounters(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  opts: { batch?: number; budgetMs?: number } = {},
): Promise<BackfillProgress> {
  const batch = opts.batch ?? 5_000
  const deadline = Date.now() + (opts.budgetMs ?? 10_000)
  for (let first = true; first || Date.now() < deadline; first = false) {
    const row = (await listBackfills(deps.db)).find((r) => r.finished_at === null)
    if (!row) break
    if (row.source === 'consent_events') {
      const from = Number(row.cursor)
      const boundary = row.boundary ?? 0
      const to =
        from >= boundary ? boundary : await nextLedgerBatchEnd(deps.db, from, boundary, batch)
      await deps.atomic(backfillLedgerQueries(from, to, CONFIRM_BUCKETS, deps.clock.now()))
    } else {
      const to = await nextReceiptBatchEnd(deps.db, row.cursor, batch)
      await deps.atomic(
        to === undefined
          ? [finishReceiptBackfillQuery(deps.clock.now())]
          : backfillReceiptQueries(row.cursor, to),
      )
    }
    await new Promise((r) => setTimeout(r, 0)) // other requests between two batches
  }
  return backfillProgress(deps)
}
