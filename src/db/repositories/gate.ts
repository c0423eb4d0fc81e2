/**
 * @module Everything the gate needs about contacts and one purpose, in ONE query per call: a batch's
 * references travel as JSON parameters joined with json_each (D1 allows only 100 bound parameters;
 * 10,000 contacts would otherwise take 10,000 queries or 100 batches). Rows are kept narrow (the
 * contact's standing as bits, then the state): on Node every column of every row costs a JS value.
 */
import { sql, type RawBuilder } from 'kysely'
import type { Query, QueryOne } from '../database.ts'
import { compiler, prepared } from '../prepared.ts'

/** Bits of `GateRow.contact`. */
export const CONTACT_FOUND = 1
/** Erased, or a blind index of its address (stored, or looked up by) is on the suppression list. */
export const CONTACT_SUPPRESSED = 2
/** Art. 21 objection to all direct marketing. */
export const CONTACT_OBJECTED = 4

export interface GateRow {
  /** CONTACT_* bits: 0 for an unknown contact whose address is not suppressed. */
  contact: number
  status: 'pending' | 'granted' | 'withdrawn' | 'expired' | null
  granted_at: number | null
  notice_version: number | null
  notice_locale: 'fr' | 'en' | null
}

export interface GateBatchRow extends GateRow {
  /** Position of the reference in `emails`, then `ids`, then `mauticIds` (GateRefs). */
  idx: number
}

/** A batch's references, grouped by kind. */
export interface GateRefs {
  /** Blind indexes of the addresses under the current key. */
  emails: string[]
  /** During a key rotation: the same addresses' blind indexes under the previous key, same order. */
  previousEmails: string[] | null
  ids: string[]
  mauticIds: string[]
}

/**
 * The contact's standing as CONTACT_* bits, then its state. `suppressed` is the suppression test: by
 * the stored blind index, or by those looked up (which include the stored one when found by address).
 */
const contactBits = (suppressed: RawBuilder<unknown>) => sql`
  CASE WHEN c.id IS NULL THEN 0 ELSE ${sql.lit(CONTACT_FOUND)} END
  | CASE WHEN c.status = 'erased' OR ${suppressed} THEN ${sql.lit(CONTACT_SUPPRESSED)} ELSE 0 END
  | CASE WHEN c.objected_at IS NOT NULL THEN ${sql.lit(CONTACT_OBJECTED)} ELSE 0 END AS contact,
  s.status, s.granted_at, s.notice_version, s.notice_locale`

// One equality per probe: `x.email_bidx IN (<one correlated value>)` costs SQLite several times more.
const listed = (bidx: RawBuilder<unknown>) =>
  sql`EXISTS (SELECT 1 FROM suppressions x WHERE x.email_bidx = ${bidx})`
const byStoredIndex = contactBits(listed(sql`c.email_bidx`))

const stateOf = (purpose: unknown) =>
  sql`LEFT JOIN consent_state s ON s.contact_id = c.id AND s.purpose_key = ${purpose}`

/** By address: `j.value` is a blind index, or a [current, previous] pair during a rotation. */
const CURRENT = sql`json_extract(j.value, '$[0]')`
const PREVIOUS = sql`json_extract(j.value, '$[1]')`
const byEmail = {
  single: { match: sql`c.email_bidx = j.value`, facts: contactBits(listed(sql`j.value`)) },
  rotating: {
    match: sql`c.email_bidx IN (${CURRENT}, ${PREVIOUS})`,
    facts: contactBits(sql`(${listed(CURRENT)} OR ${listed(PREVIOUS)})`),
  },
}

const batchQuery = (email: (typeof byEmail)['single']) =>
  prepared(['emails', 'ids', 'idsAt', 'mauticIds', 'mauticAt', 'purpose'], (p) => ({
    compile: () =>
      sql`SELECT j.key AS idx, ${email.facts}
        FROM json_each(${p.emails}) j
        LEFT JOIN contacts c ON ${email.match}
        ${stateOf(p.purpose)}
      UNION ALL
      SELECT j.key + ${p.idsAt}, ${byStoredIndex}
        FROM json_each(${p.ids}) j
        LEFT JOIN contacts c ON c.id = j.value
        ${stateOf(p.purpose)}
      UNION ALL
      SELECT j.key + ${p.mauticAt}, ${byStoredIndex}
        FROM json_each(${p.mauticIds}) j
        LEFT JOIN contact_links l ON l.system = 'mautic' AND l.external_id = j.value
        LEFT JOIN contacts c ON c.id = l.contact_id
        ${stateOf(p.purpose)}`.compile(compiler),
  }))

const batchQueries = { single: batchQuery(byEmail.single), rotating: batchQuery(byEmail.rotating) }

/**
 * A row per reference, in no guaranteed order (`idx` says whose); two for an address that matches
 * two contacts during a rotation (one written under each key).
 */
export function readGateFacts(
  { query }: { query: Query },
  purposeKey: string,
  refs: GateRefs,
): GateBatchRow[] | Promise<GateBatchRow[]> {
  const previous = refs.previousEmails
  const q = previous ? batchQueries.rotating : batchQueries.single
  return query<GateBatchRow>(
    q({
      emails: JSON.stringify(previous ? refs.emails.map((e, i) => [e, previous[i]]) : refs.emails),
      ids: JSON.stringify(refs.ids),
      idsAt: refs.emails.length,
      mauticIds: JSON.stringify(refs.mauticIds),
      mauticAt: refs.emails.length + refs.ids.length,
      purpose: purposeKey,
    }),
  )
}

/**
 * The same facts for ONE contact by id, without json_each: the hot path of a send (the relay, the
 * campaign hook, /api/v1/send) decides one recipient at a time. No row: no such contact.
 */
const gateByIdQuery = prepared(['purpose', 'id'], (p) => ({
  compile: () =>
    sql`SELECT ${byStoredIndex} FROM contacts c ${stateOf(p.purpose)}
      WHERE c.id = ${p.id}`.compile(compiler),
}))

/**
 * The same facts for ONE address, with the contact's id and language: the API gate of one contact and
 * every /api/v1/send decide, then link, from this single read. Plain equalities outside a key
 * rotation: `x IN (?, ?)` makes SQLite build a temporary table for the list on every run, which
 * doubles the cost of the read.
 */
const gateByEmailQueries = {
  single: prepared(['purpose', 'current'], (p) => ({
    compile: () =>
      sql`SELECT c.id, c.locale, ${contactBits(listed(p.current))}
        FROM (SELECT 1) one
        LEFT JOIN contacts c ON c.email_bidx = ${p.current}
        ${stateOf(p.purpose)}`.compile(compiler),
  })),
  rotating: prepared(['purpose', 'current', 'previous'], (p) => ({
    compile: () =>
      sql`SELECT c.id, c.locale, ${contactBits(sql`(${listed(p.current)} OR ${listed(p.previous)})`)}
        FROM (SELECT 1) one
        LEFT JOIN contacts c ON c.email_bidx IN (${p.current}, ${p.previous})
        ${stateOf(p.purpose)}`.compile(compiler),
  })),
}

export interface GateEmailRow extends GateRow {
  /** Null when no contact has the address. */
  id: string | null
  locale: 'fr' | 'en' | null
}

/** Always one row (two when the address matches a contact under each key of a rotation: the first). */
export function readGateFactsByEmail(
  { queryOne }: { queryOne: QueryOne },
  purposeKey: string,
  [current, previous]: [string, string | null],
): GateEmailRow | undefined | Promise<GateEmailRow | undefined> {
  return queryOne<GateEmailRow>(
    previous === null
      ? gateByEmailQueries.single({ purpose: purposeKey, current })
      : gateByEmailQueries.rotating({ purpose: purposeKey, current, previous }),
  )
}

export function readGateFactsById(
  { queryOne }: { queryOne: QueryOne },
  purposeKey: string,
  contactId: string,
): GateRow | undefined | Promise<GateRow | undefined> {
  return queryOne<GateRow>(gateByIdQuery({ purpose: purposeKey, id: contactId }))
}
