/**
 * @module The `daily_counters` table and its backfill (migrations/0013_console_counters.sql): counts per
 * counter name, UTC day and dimensions, as compiled queries for the atomic unit of what they count.
 * What each name and dimension means is src/domain/platform/counters.ts.
 */
import { sql, type CompiledQuery, type RawBuilder, type Selectable } from 'kysely'
import type { CounterBackfillTable, DailyCountersTable, DB } from '../database.ts'
import { compiler, prepared } from '../prepared.ts'

export type CounterRow = Selectable<DailyCountersTable>
export type BackfillRow = Selectable<CounterBackfillTable>

/** The UTC day (YYYY-MM-DD) of an epoch-milliseconds column, as SQLite (and D1) compute it. */
const dayOf = (column: RawBuilder<unknown>) =>
  sql<string>`strftime('%Y-%m-%d', ${column} / 1000, 'unixepoch')`

const ADD = sql`ON CONFLICT (name, day, dim1, dim2, dim3) DO UPDATE SET
  count = daily_counters.count + excluded.count,
  last_at = max(daily_counters.last_at, excluded.last_at)`

const upsert = prepared(['name', 'day', 'dim1', 'dim2', 'dim3', 'count', 'at'], (p, db) =>
  db
    .insertInto('daily_counters')
    .values({
      name: p.name,
      day: p.day,
      dim1: p.dim1,
      dim2: p.dim2,
      dim3: p.dim3,
      count: p.count,
      last_at: p.at,
    })
    .onConflict((oc) =>
      oc.columns(['name', 'day', 'dim1', 'dim2', 'dim3']).doUpdateSet({
        count: sql<number>`daily_counters.count + excluded.count`,
        last_at: sql<number>`max(daily_counters.last_at, excluded.last_at)`,
      }),
    ),
)

/** Adds `count` to one counter of one day (created at `count` the first time). Compiled once. */
export function addCounterQuery(row: {
  name: string
  day: string
  dims: readonly string[]
  count: number
  at: number
}): CompiledQuery {
  return upsert({
    name: row.name,
    day: row.day,
    dim1: row.dims[0] ?? '',
    dim2: row.dims[1] ?? '',
    dim3: row.dims[2] ?? '',
    count: row.count,
    at: row.at,
  })
}

/**
 * Adds 1 to a counter unless the data-subject request `dsrId` exists already: its insert (ON CONFLICT
 * DO NOTHING, for derived ids) comes next in the unit, and a request recorded twice counts once.
 */
export function addCounterForNewDsrQuery(
  dsrId: string,
  row: { name: string; day: string; dims: readonly string[]; at: number },
): CompiledQuery {
  return sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
    SELECT ${row.name}, ${row.day}, ${row.dims[0] ?? ''}, ${row.dims[1] ?? ''}, ${row.dims[2] ?? ''}, 1, ${row.at}
    WHERE NOT EXISTS (SELECT 1 FROM dsr_requests WHERE id = ${dsrId}) ${ADD}`.compile(compiler)
}

/** A histogram bucket: the label of the bucket whose upper bound (ms, inclusive) is the first above. */
export interface Bucket {
  label: string
  upToMs: number
}

/** SQL CASE giving the bucket label of a duration in ms (the last bucket takes everything above). */
function bucketCase(waited: RawBuilder<unknown>, buckets: readonly Bucket[]) {
  const last = buckets.at(-1)!
  return sql<string>`CASE ${sql.join(
    buckets
      .slice(0, -1)
      .map((b) => sql`WHEN ${waited} <= ${sql.lit(b.upToMs)} THEN ${sql.lit(b.label)}`),
    sql` `,
  )} ELSE ${sql.lit(last.label)} END`
}

/**
 * The time a double opt-in took, from the contact's latest `requested` event for the purpose before
 * this confirmation (seq) to the confirmation: the same definition for live counting and the backfill.
 */
const requestedBefore = (contact: unknown, purpose: unknown, seq: unknown) =>
  sql`(SELECT r.occurred_at FROM consent_events r WHERE r.contact_id = ${contact}
    AND r.purpose_key = ${purpose} AND r.action = 'requested' AND r.seq < ${seq}
    ORDER BY r.seq DESC LIMIT 1)`

const optinConfirmed = new WeakMap<readonly Bucket[], ReturnType<typeof optinConfirmedQuery>>()

/**
 * Compiled once per bucket list: the wait is computed once, in a one-row subquery, and the CASE reads
 * it (written inline, each WHEN would run the correlated look-up again: nine times for nine bounds).
 */
function optinConfirmedQuery(buckets: readonly Bucket[]) {
  return prepared(['day', 'purpose', 'source', 'at', 'contact', 'seq'], (p, db) => ({
    compile: () =>
      sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
        SELECT 'optin_confirmed', ${p.day}, ${p.purpose}, ${p.source}, ${bucketCase(sql`w.waited`, buckets)}, 1, ${p.at}
        FROM (SELECT (${p.at} - coalesce(${requestedBefore(p.contact, p.purpose, p.seq)}, ${p.at})) AS waited) w
        WHERE true ${ADD}`.compile(db),
  }))
}

/** Counts a confirmation by double opt-in in its histogram bucket (written after its event row). */
export function addOptinConfirmedQuery(
  e: { contactId: string; seq: number; purpose: string; source: string; occurredAt: number },
  day: string,
  buckets: readonly Bucket[],
): CompiledQuery {
  let query = optinConfirmed.get(buckets)
  if (!query) optinConfirmed.set(buckets, (query = optinConfirmedQuery(buckets)))
  return query({
    day,
    purpose: e.purpose,
    source: e.source,
    at: e.occurredAt,
    contact: e.contactId,
    seq: e.seq,
  })
}

/**
 * Moves a Mautic event's count from `queued` to the outcome its processing gave, on the day of its
 * receipt; only for a receipt counted already and still queued (run before the receipt's update).
 */
export function moveWebhookOutcomeQueries(
  key: string,
  outcome: string,
  now: number,
): CompiledQuery[] {
  const receipt = sql`FROM webhook_receipts w WHERE w.key = ${key} AND w.counted = 1 AND w.outcome = 'queued'`
  return [
    sql`UPDATE daily_counters SET count = count - 1
      WHERE name = 'webhook_events' AND dim2 = 'queued' AND dim3 = ''
        AND (day, dim1) IN (SELECT ${dayOf(sql`w.received_at`)}, w.event_type ${receipt})`.compile(
      compiler,
    ),
    sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
      SELECT 'webhook_events', ${dayOf(sql`w.received_at`)}, w.event_type, ${outcome}, '', 1, ${now}
      ${receipt} ${ADD}`.compile(compiler),
  ]
}

/** Counters of one name from `sinceDay` on (inclusive), oldest day first. */
export function listCounters(db: DB, name: string, sinceDay: string): Promise<CounterRow[]> {
  return db
    .selectFrom('daily_counters')
    .selectAll()
    .where('name', '=', name)
    .where('day', '>=', sinceDay)
    .orderBy('day')
    .execute()
}

/** Every counter of one name, summed over all days per dimensions (tests, the ledger check). */
export function sumCounters(
  db: DB,
  name: string,
): Promise<{ dim1: string; dim2: string; dim3: string; count: number }[]> {
  return db
    .selectFrom('daily_counters')
    .select(['dim1', 'dim2', 'dim3', (eb) => eb.fn.sum<number>('count').as('count')])
    .where('name', '=', name)
    .groupBy(['dim1', 'dim2', 'dim3'])
    .execute()
}

/**
 * Every counter summed over all its days, per name and dimensions (GET /metrics: Prometheus counters
 * are totals since the start). The table holds a row per day and dimensions, not per event: a few
 * hundred rows a day at most.
 */
export function sumAllCounters(
  db: DB,
): Promise<{ name: string; dim1: string; dim2: string; dim3: string; count: number }[]> {
  return db
    .selectFrom('daily_counters')
    .select(['name', 'dim1', 'dim2', 'dim3', (eb) => eb.fn.sum<number>('count').as('count')])
    .groupBy(['name', 'dim1', 'dim2', 'dim3'])
    .orderBy('name')
    .execute()
}

// The backfill (see the migration): what the ledger and the receipts held before 0013.

export function listBackfills(db: DB): Promise<BackfillRow[]> {
  return db.selectFrom('counter_backfill').selectAll().execute()
}

/** The rowid ending the next batch of at most `size` ledger events after `from`, up to `boundary`. */
export async function nextLedgerBatchEnd(
  db: DB,
  from: number,
  boundary: number,
  size: number,
): Promise<number> {
  const { rows } = await db.executeQuery<{ r: number }>(
    sql`SELECT rowid AS r FROM consent_events WHERE rowid > ${from} AND rowid <= ${boundary}
      ORDER BY rowid LIMIT 1 OFFSET ${size - 1}`.compile(db),
  )
  return rows[0]?.r ?? boundary
}

/**
 * Counts the ledger events with rowid in (from, to] as live counting would have, and moves the cursor:
 * one atomic unit. Each statement first checks that the cursor is still at `from`, so a second
 * process running the same batch at once counts nothing.
 */
export function backfillLedgerQueries(
  from: number,
  to: number,
  buckets: readonly Bucket[],
  now: number,
): CompiledQuery[] {
  const at = sql`EXISTS (SELECT 1 FROM counter_backfill WHERE source = 'consent_events' AND cursor = ${String(from)})`
  const range = sql`e.rowid > ${from} AND e.rowid <= ${to} AND ${at}`
  const day = dayOf(sql`e.occurred_at`)
  return [
    sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
      SELECT 'consent_events', ${day}, e.purpose_key, e.action, '', count(*), max(e.occurred_at)
      FROM consent_events e WHERE ${range} GROUP BY 2, 3, 4 ${ADD}`,
    sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
      SELECT 'optin_requested', ${day}, e.purpose_key, e.source, '', count(*), max(e.occurred_at)
      FROM consent_events e WHERE ${range} AND e.action = 'requested' GROUP BY 2, 3, 4 ${ADD}`,
    // The wait computed once per event in a subquery, as addOptinConfirmedQuery does.
    sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
      SELECT 'optin_confirmed', w.day, w.purpose_key, w.source, ${bucketCase(sql`w.waited`, buckets)}, count(*), max(w.occurred_at)
      FROM (SELECT ${day} AS day, e.purpose_key, e.source, e.occurred_at,
          (e.occurred_at - coalesce(${requestedBefore(sql`e.contact_id`, sql`e.purpose_key`, sql`e.seq`)}, e.occurred_at)) AS waited
        FROM consent_events e WHERE ${range} AND e.action = 'confirmed' AND e.method = 'double_opt_in') w
      GROUP BY 2, 3, 4, 5 ${ADD}`,
    sql`UPDATE counter_backfill SET cursor = ${String(to)},
        done = done + (SELECT count(*) FROM consent_events e WHERE e.rowid > ${from} AND e.rowid <= ${to}),
        finished_at = CASE WHEN ${to} >= boundary THEN ${now} ELSE NULL END
      WHERE source = 'consent_events' AND cursor = ${String(from)}`,
  ].map((q) => q.compile(compiler))
}

/** The key ending the next batch of at most `size` receipts not yet counted, after `from`. */
export async function nextReceiptBatchEnd(
  db: DB,
  from: string,
  size: number,
): Promise<string | undefined> {
  const rows = await db
    .selectFrom('webhook_receipts')
    .select('key')
    .where('key', '>', from)
    .where('counted', 'is', null)
    .orderBy('key')
    .limit(size)
    .execute()
  return rows.at(-1)?.key
}

/**
 * Counts the receipts not yet counted with a key in (from, to], by the day of receipt, type and
 * outcome, marks them counted and moves the cursor: one atomic unit (a second run counts nothing).
 */
export function backfillReceiptQueries(from: string, to: string): CompiledQuery[] {
  const range = sql`w.key > ${from} AND w.key <= ${to} AND w.counted IS NULL`
  return [
    sql`INSERT INTO daily_counters (name, day, dim1, dim2, dim3, count, last_at)
      SELECT 'webhook_events', ${dayOf(sql`w.received_at`)}, w.event_type, coalesce(w.outcome, ''), '',
        count(*), max(w.received_at)
      FROM webhook_receipts w WHERE ${range} GROUP BY 2, 3, 4 ${ADD}`,
    sql`UPDATE counter_backfill SET cursor = ${to},
        done = done + (SELECT count(*) FROM webhook_receipts w WHERE ${range})
      WHERE source = 'webhook_receipts' AND cursor = ${from}`,
    sql`UPDATE webhook_receipts AS w SET counted = 1 WHERE ${range}`,
  ].map((q) => q.compile(compiler))
}

/** The receipts backfill is over: nothing left uncounted. */
export function finishReceiptBackfillQuery(now: number): CompiledQuery {
  return sql`UPDATE counter_backfill SET finished_at = ${now}, done = total
    WHERE source = 'webhook_receipts' AND finished_at IS NULL`.compile(compiler)
}
