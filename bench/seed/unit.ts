/**
 * @module One unit of the seeded database: the rows of a run of consecutive contacts, made by the
 * gateway's own code (`newContact`, `buildEventQueries`) as compiled queries for `deps.atomic`.
 * bench/seed/build-thread.ts makes and writes them; bench/seed/build.ts says why it is done this way.
 */
import type { CompiledQuery } from 'kysely'
import type { Deps } from '../../src/deps.ts'
import { buildEventQueries, GENESIS_HASH } from '../../src/domain/consent/ledger.ts'
import type { Purpose } from '../../src/domain/consent/purposes.ts'
import { newContact } from '../../src/domain/platform/contacts.ts'
import { blindIndexesSync } from '../../src/lib/email.ts'
import { seedContact } from './history.ts'

/** A clock the builder sets: each contact and event is recorded at the time its story says. */
export interface SettableClock {
  now(): number
  set(ms: number): void
}

export function settableClock(): SettableClock {
  let t = 0
  return { now: () => t, set: (ms) => void (t = ms) }
}

export interface UnitInput {
  /** Number of the unit's first contact. */
  first: number
  /** The unit's contact ids, in order (random v4, drawn and sorted by the builder). */
  ids: string[]
  from: number
  until: number
}

export interface UnitRows {
  queries: CompiledQuery[]
  /** Rows among them: contacts, events and consent_state upserts (the build's rate counts these). */
  rows: number
  /** The daily counters' upserts among them (src/domain/platform/counters.ts), one or two an event. */
  counterWrites: number
  /** Bytes of the values the rows bind: what they weigh before SQLite's own overhead. */
  bytes: number
}

/** A daily counter's upsert, written with its event: work the build does, not a row it counts. */
const isCounter = (q: CompiledQuery) => q.sql.includes('daily_counters')

/** Bytes of the values a query binds. */
function boundBytes(q: CompiledQuery): number {
  let n = 0
  for (const p of q.parameters)
    n += typeof p === 'string' ? Buffer.byteLength(p) : p === null ? 1 : 8
  return n
}

/**
 * The contacts `first` … `first + ids.length - 1`: each one's row, then its events chained from the
 * genesis hash, each event with the consent_state upsert it implies and the daily counters it adds to
 * (as `buildEventQueries` gives them to every writer of the ledger), recorded at its own time.
 */
export async function unitRows(
  deps: Pick<Deps, 'db' | 'keys' | 'sha256'> & { clock: SettableClock },
  purposes: Map<string, Purpose>,
  unit: UnitInput,
): Promise<UnitRows> {
  const queries: CompiledQuery[] = []
  for (let k = 0; k < unit.ids.length; k++) {
    const seed = seedContact(unit.first + k, unit.from, unit.until)
    deps.clock.set(seed.createdAt)
    const bidx = blindIndexesSync(deps.keys, seed.email)[0]
    const contact = await newContact(deps, seed.email, bidx, seed.locale, undefined, unit.ids[k])
    queries.push(...contact.insert)
    let head = { seq: 0, hash: GENESIS_HASH }
    for (const ev of seed.events) {
      const at = seed.createdAt + ev.after
      deps.clock.set(at)
      // The seeded notice, version 1 in the contact's language: what the event records having shown.
      const shown = purposes.get(ev.purposeKey)?.current[seed.locale]
      if (!shown) throw new Error(`no notice for ${ev.purposeKey} in ${seed.locale}`)
      const built = await buildEventQueries(
        deps,
        { id: contact.row.id, dataKey: contact.dataKey },
        head,
        [
          {
            purposeKey: ev.purposeKey,
            action: ev.action,
            noticeId: shown.id,
            noticeVersion: shown.version,
            noticeLocale: shown.locale,
            method: ev.method,
            source: ev.source,
            evidence: {
              ip: seed.ip,
              user_agent: seed.userAgent,
              notice_hash: shown.content_hash,
              locale: seed.locale,
            },
            actor: ev.method === 'api' ? ev.source : 'contact',
            occurredAt: at,
          },
        ],
      )
      head = built.chain
      queries.push(...built.queries)
    }
  }
  let bytes = 0
  let counterWrites = 0
  for (const q of queries)
    if (isCounter(q)) counterWrites++
    else bytes += boundBytes(q)
  return { queries, rows: queries.length - counterWrites, counterWrites, bytes }
}
