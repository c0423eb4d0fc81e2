/**
 * @module The consent ledger: append-only events, one hash chain per contact (UNIQUE(contact_id, seq)),
 * each event written atomically with the consent_state it implies and whatever else the unit carries
 * (outbox rows, the contact itself), and with the daily counters it adds to
 * (src/domain/platform/counters.ts). Two writers racing on one contact: the loser's batch fails on the
 * unique key and is rebuilt from the new head (atomic() cannot read between statements, and D1 cannot
 * serialise writers, so the chain is per contact rather than global). Two writers creating the same
 * new contact: the loser's insert fails on the address's unique blind index, and its unit is rebuilt
 * on the contact the winner made (insert or get, then go on). Within one process, units that name
 * the same key (an address, a contact) are built and committed one after another, so that parallel
 * requests for one person do not all race and retry.
 */
import type { CompiledQuery } from 'kysely'
import type { ConsentAction } from '../../db/database.ts'
import {
  findChainHead,
  insertEventQuery,
  upsertStateQuery,
  findStates,
  type ConsentEventRow,
  type ConsentStateRow,
} from '../../db/repositories/ledger.ts'
import type { Deps } from '../../deps.ts'
import { toHex, utf8, type Bytes } from '../../lib/encoding.ts'
import { webSha256, type Sha256 } from '../../lib/keys.ts'
import { sealEvidence } from '../platform/contacts.ts'
import { ledgerCounterQueries } from '../platform/counters.ts'
import { uuidv7 } from '../../lib/ids.ts'

export const GENESIS_HASH = '0'.repeat(64)
/**
 * Writers racing on one contact each lose at most once per winner: with N of them at once, the last
 * commits on its Nth try. A person's links, a preference page and a webhook burst easily make a dozen.
 */
const MAX_ATTEMPTS = 40

export interface NewConsentEvent {
  purposeKey: string
  action: ConsentAction
  noticeId: string | null
  /** Version and locale of that notice, copied into consent_state for the gate. */
  noticeVersion?: number | null
  noticeLocale?: 'fr' | 'en' | null
  /** How: form, double_opt_in, api, one_click, preference_center, import, admin, mautic… */
  method: string
  /** Where: form key, page URL, API key name, Mautic form id… */
  source: string
  /** IP, user agent, shown-unticked, privacy URL shown… encrypted under the contact's key. */
  evidence: Record<string, unknown> | null
  /** Who: 'contact', 'api:<key name>', 'admin:<id>', 'system'. */
  actor: string
  occurredAt: number
}

const STATUS_AFTER: Record<ConsentAction, 'pending' | 'granted' | 'withdrawn' | 'expired'> = {
  requested: 'pending',
  confirmed: 'granted',
  granted: 'granted',
  withdrawn: 'withdrawn',
  expired: 'expired',
  erased: 'withdrawn',
}

/** SHA-256 over the event's fields and the previous hash (ciphertext, so erasure keeps it valid). */
export async function eventHash(
  e: Omit<ConsentEventRow, 'hash'>,
  sha256: Sha256 = webSha256,
): Promise<string> {
  const canonical = JSON.stringify([
    e.id,
    e.contact_id,
    e.seq,
    e.purpose_key,
    e.action,
    e.notice_id,
    e.method,
    e.source,
    e.evidence_enc,
    e.actor,
    e.occurred_at,
    e.recorded_at,
    e.prev_hash,
  ])
  return toHex(await sha256(utf8(canonical)))
}

/** Event rows chained after `head`, plus the state upserts they imply. */
export async function buildEventQueries(
  deps: Pick<Deps, 'db' | 'clock' | 'sha256' | 'keys'>,
  contact: { id: string; dataKey: Bytes | null },
  head: { seq: number; hash: string },
  events: NewConsentEvent[],
): Promise<{ queries: CompiledQuery[]; rows: ConsentEventRow[]; chain: ChainHead }> {
  const queries: CompiledQuery[] = []
  const rows: ConsentEventRow[] = []
  let { seq, hash } = head
  const recordedAt = deps.clock.now()
  for (const e of events) {
    const id = uuidv7(recordedAt)
    seq += 1
    const evidence_enc =
      e.evidence && contact.dataKey
        ? await sealEvidence(deps.keys, contact.dataKey, e.evidence, `consent_events:${id}`)
        : null
    const partial = {
      id,
      contact_id: contact.id,
      seq,
      purpose_key: e.purposeKey,
      action: e.action,
      notice_id: e.noticeId,
      method: e.method,
      source: e.source,
      evidence_enc,
      actor: e.actor,
      occurred_at: e.occurredAt,
      recorded_at: recordedAt,
      prev_hash: hash,
    }
    hash = await eventHash(partial, deps.sha256)
    const row = { ...partial, hash }
    rows.push(row)
    queries.push(insertEventQuery(deps.db, row), ...ledgerCounterQueries(row))
    const status = STATUS_AFTER[e.action]
    queries.push(
      upsertStateQuery(deps.db, {
        contact_id: contact.id,
        purpose_key: e.purposeKey,
        status,
        notice_id: e.noticeId,
        notice_version: e.noticeVersion ?? null,
        notice_locale: e.noticeLocale ?? null,
        granted_at: status === 'granted' ? e.occurredAt : null,
        changed_at: e.occurredAt,
        last_event_id: id,
      }),
    )
  }
  return { queries, rows, chain: { contactId: contact.id, seq, hash } }
}

export const isChainRace = (err: unknown) =>
  /UNIQUE constraint failed: consent_events\.contact_id, consent_events\.seq/.test(
    String((err as Error)?.message),
  )

/** Another writer created the contact for this address first (contacts_email_bidx). */
export const isNewContactRace = (err: unknown) =>
  /UNIQUE constraint failed: contacts\.email_bidx/.test(String((err as Error)?.message))

/** A race a rebuilt unit wins: it reads the new head, or the contact another writer made. */
const isWriteRace = (err: unknown) => isChainRace(err) || isNewContactRace(err)

/**
 * Runs `build` (which reads what it needs, including the chain head via `chainHead`) and commits its
 * queries atomically; rebuilds and retries when another writer extended the same chain first.
 */
export interface ChainHead {
  contactId: string
  seq: number
  hash: string
}

/**
 * The last head this process committed per contact, so that the next change to a contact needs no read
 * first. Optimistic: a head made stale by another process makes the insert collide on
 * UNIQUE(contact_id, seq), and the retry reads the real head. Bounded; oldest entries go first.
 */
const HEAD_CACHE_MAX = 10_000
const headCaches = new WeakMap<object, Map<string, { seq: number; hash: string }>>()
const headCache = (deps: Pick<Deps, 'query'>) => {
  let cache = headCaches.get(deps.query)
  if (!cache) headCaches.set(deps.query, (cache = new Map()))
  return cache
}

/** Per process (per deps), the last unit queued under each key: the next one waits for it. */
const keyedTails = new WeakMap<object, Map<string, Promise<unknown>>>()

/** Runs `fn` once every unit queued before it under `key` in this process has finished. */
function oneAtATime<T>(deps: Pick<Deps, 'query'>, key: string, fn: () => Promise<T>): Promise<T> {
  let tails = keyedTails.get(deps.query)
  if (!tails) keyedTails.set(deps.query, (tails = new Map()))
  const before = tails.get(key)
  const run = before ? before.then(fn, fn) : fn()
  const tail = run.then(
    () => undefined,
    () => undefined,
  )
  tails.set(key, tail)
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key)
  })
  return run
}

/**
 * Runs `build` (which reads what it needs, including the chain head via `chainHead`) and commits its
 * queries atomically; rebuilds and retries when another writer extended the same chain first, or
 * created the same new contact first.
 * @param opts.key units under the same key (an address's blind index, a contact id) run one after
 * another in this process.
 */
export async function commitWithChainRetry<T>(
  deps: Pick<Deps, 'atomic' | 'query'>,
  build: () => Promise<{ queries: CompiledQuery[]; result: T; chains?: ChainHead[] }>,
  opts: { key?: string } = {},
): Promise<T> {
  if (opts.key !== undefined)
    return oneAtATime(deps, opts.key, () => commitWithChainRetry(deps, build))
  const cache = headCache(deps)
  for (let attempt = 1; ; attempt++) {
    const { queries, result, chains = [] } = await build()
    try {
      await deps.atomic(queries)
    } catch (err) {
      for (const c of chains) cache.delete(c.contactId)
      if (!isWriteRace(err) || attempt >= MAX_ATTEMPTS) throw err
      // From the third loss on, a short random pause: losers that retry in lockstep (D1 isolates)
      // would otherwise keep colliding.
      if (attempt >= 3) await new Promise((r) => setTimeout(r, Math.random() * 2 * attempt))
      continue
    }
    for (const c of chains) {
      cache.delete(c.contactId) // re-insert: Map order is the eviction order
      cache.set(c.contactId, { seq: c.seq, hash: c.hash })
      if (cache.size > HEAD_CACHE_MAX) cache.delete(cache.keys().next().value!)
    }
    return result
  }
}

/**
 * A contact's chain head, THEN its states. A unit that decides on the states must read them in this
 * order: a change committed after the head was read makes the unit's first event collide with it
 * (UNIQUE(contact_id, seq)), and the unit is built again on fresh reads. Read the other way round, a
 * decision taken on states older than the head would commit (a confirmation after a withdrawal).
 */
export async function statesAtHead(
  deps: Pick<Deps, 'query' | 'db'>,
  contactId: string,
): Promise<{ head: ChainHead | { seq: number; hash: string }; states: ConsentStateRow[] }> {
  const head = await chainHead(deps, contactId)
  return { head, states: await findStates(deps.db, contactId) }
}

export async function chainHead(deps: Pick<Deps, 'query'>, contactId: string) {
  const cached = headCache(deps).get(contactId)
  if (cached) return cached
  return (await findChainHead(deps.query, contactId)) ?? { seq: 0, hash: GENESIS_HASH }
}

/**
 * Appends events to one contact's chain, with their state and any extra queries (outbox rows), as
 * one atomic unit; retries when another writer extended the chain first.
 */
export async function recordConsentEvents(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'query' | 'sha256' | 'keys'>,
  contact: { id: string; dataKey: Bytes | null },
  events: NewConsentEvent[],
  extra: CompiledQuery[] = [],
): Promise<ConsentEventRow[]> {
  return commitWithChainRetry(deps, async () => {
    const built = await buildEventQueries(deps, contact, await chainHead(deps, contact.id), events)
    return { queries: [...built.queries, ...extra], result: built.rows, chains: [built.chain] }
  })
}
