/**
 * The daily counters as the database holds them, and the same figures counted from what they count
 * (the ledger, the webhook receipts, the requests) the slow way, to compare the two.
 */
import type Database from 'better-sqlite3'
import { CONFIRM_BUCKETS, type CounterName } from '../../src/domain/platform/counters.ts'

type Row = Record<string, string | number>
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const key = (parts: (string | number)[]) => parts.join(' | ')

/** name → "day | dim1 | dim2 | dim3" → count, zero counts left out. */
export function countersIn(sqlite: Database.Database, name: CounterName): Map<string, number> {
  const rows = sqlite
    .prepare(
      'SELECT day, dim1, dim2, dim3, count FROM daily_counters WHERE name = ? AND count != 0',
    )
    .all(name) as Row[]
  return new Map(rows.map((r) => [key([r.day!, r.dim1!, r.dim2!, r.dim3!]), Number(r.count)]))
}

const tally = (rows: (string | number)[][]) => {
  const m = new Map<string, number>()
  for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1)
  return m
}

/** What each counter must hold, counted row by row from the tables it counts. */
export function countedFromTables(sqlite: Database.Database): Record<string, Map<string, number>> {
  const events = sqlite
    .prepare(
      'SELECT contact_id, seq, purpose_key, action, method, source, occurred_at FROM consent_events ORDER BY contact_id, seq',
    )
    .all() as Row[]
  const bucket = (waited: number) => CONFIRM_BUCKETS.find((b) => waited <= b.upToMs)!.label
  const confirmed = events
    .filter((e) => e.action === 'confirmed' && e.method === 'double_opt_in')
    .map((e) => {
      const requested = events
        .filter(
          (r) =>
            r.contact_id === e.contact_id &&
            r.purpose_key === e.purpose_key &&
            r.action === 'requested' &&
            Number(r.seq) < Number(e.seq),
        )
        .at(-1)
      const at = Number(e.occurred_at)
      return [day(at), e.purpose_key!, e.source!, bucket(at - Number(requested?.occurred_at ?? at))]
    })
  const receipts = sqlite
    .prepare('SELECT event_type, outcome, received_at FROM webhook_receipts')
    .all() as Row[]
  const requests = sqlite
    .prepare('SELECT kind, channel, received_at FROM dsr_requests')
    .all() as Row[]
  return {
    consent_events: tally(
      events.map((e) => [day(Number(e.occurred_at)), e.purpose_key!, e.action!, '']),
    ),
    optin_requested: tally(
      events
        .filter((e) => e.action === 'requested')
        .map((e) => [day(Number(e.occurred_at)), e.purpose_key!, e.source!, '']),
    ),
    optin_confirmed: tally(confirmed),
    webhook_events: tally(
      receipts.map((r) => [day(Number(r.received_at)), r.event_type!, r.outcome ?? '', '']),
    ),
    dsr_received: tally(requests.map((r) => [day(Number(r.received_at)), r.kind!, r.channel!, ''])),
  }
}

/** Every counter that counts rows of a table, as the database holds it. */
export function tableCounters(sqlite: Database.Database): Record<string, Map<string, number>> {
  return Object.fromEntries(
    (
      [
        'consent_events',
        'optin_requested',
        'optin_confirmed',
        'webhook_events',
        'dsr_received',
      ] as const
    ).map((n) => [n, countersIn(sqlite, n)]),
  )
}
