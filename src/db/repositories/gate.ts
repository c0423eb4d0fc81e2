/**
 * @module Everything the gate needs for a batch of contacts in ONE query: the references travel as one
 * JSON parameter joined with json_each (D1 allows only 100 bound parameters; 10,000 contacts would
 * otherwise take 10,000 queries or 100 batches).
 */
import { sql } from 'kysely'
import type { Deps } from '../../deps.ts'
import type { DB } from '../database.ts'
import { compiler, prepared } from '../prepared.ts'

/** [kind, value, second blind index during a key rotation] */
export type GateRef = ['id' | 'mautic' | 'email', string, string | null]

export interface GateRow {
  idx: number
  contact_id: string | null
  contact_status: 'active' | 'erased' | null
  objected_at: number | null
  suppressed: 0 | 1
  status: 'pending' | 'granted' | 'withdrawn' | 'expired' | null
  granted_at: number | null
  notice_version: number | null
  notice_locale: 'fr' | 'en' | null
}

export async function readGateFacts(
  db: DB,
  purposeKey: string,
  refs: GateRef[],
): Promise<GateRow[]> {
  const { rows } = await sql<GateRow>`
    WITH input AS (
      SELECT CAST(j.key AS INTEGER) AS idx, json_extract(j.value, '$[0]') AS kind, json_extract(j.value, '$[1]') AS ref,
             json_extract(j.value, '$[2]') AS ref2
      FROM json_each(${JSON.stringify(refs)}) AS j
    ),
    resolved AS (
      SELECT i.idx, i.kind, i.ref, i.ref2,
        CASE i.kind
          WHEN 'id' THEN (SELECT c.id FROM contacts c WHERE c.id = i.ref)
          WHEN 'email' THEN (SELECT c.id FROM contacts c WHERE c.email_bidx IN (i.ref, i.ref2) LIMIT 1)
          WHEN 'mautic' THEN (SELECT l.contact_id FROM contact_links l
                              WHERE l.system = 'mautic' AND l.external_id = i.ref)
        END AS contact_id
      FROM input i
    )
    SELECT r.idx, r.contact_id, c.status AS contact_status, c.objected_at,
      EXISTS (SELECT 1 FROM suppressions x WHERE x.email_bidx IN (
        c.email_bidx,
        CASE r.kind WHEN 'email' THEN r.ref END,
        CASE r.kind WHEN 'email' THEN r.ref2 END)) AS suppressed,
      s.status, s.granted_at, s.notice_version, s.notice_locale
    FROM resolved r
    LEFT JOIN contacts c ON c.id = r.contact_id
    LEFT JOIN consent_state s ON s.contact_id = r.contact_id AND s.purpose_key = ${purposeKey}
    ORDER BY r.idx`.execute(db)
  return rows
}

const FACTS_BY_ID = sql`
  SELECT 0 AS idx, c.id AS contact_id, c.status AS contact_status, c.objected_at,
    EXISTS (SELECT 1 FROM suppressions x WHERE x.email_bidx = c.email_bidx) AS suppressed,
    s.status, s.granted_at, s.notice_version, s.notice_locale
  FROM contacts c
  LEFT JOIN consent_state s ON s.contact_id = c.id AND s.purpose_key = `

/**
 * The same facts for ONE contact by id, without json_each: the hot path of a send (the relay, the
 * campaign hook, /api/v1/send) decides one recipient at a time.
 */
const gateByIdQuery = prepared(['purpose', 'id'], (p) => ({
  compile: () =>
    sql`${FACTS_BY_ID}${p.purpose}
      WHERE c.id = ${p.id}`.compile(compiler),
}))

/** One contact by the blind indexes of its address (current key, previous key or the same twice). */
const gateByEmailQuery = prepared(['purpose', 'bidx', 'bidx2'], (p) => ({
  compile: () =>
    sql`${FACTS_BY_ID}${p.purpose}
      WHERE c.email_bidx IN (${p.bidx}, ${p.bidx2})`.compile(compiler),
}))

const suppressedOnlyQuery = prepared(['bidx', 'bidx2'], (p) => ({
  compile: () =>
    sql`SELECT 0 AS idx, NULL AS contact_id, NULL AS contact_status, NULL AS objected_at,
      EXISTS (SELECT 1 FROM suppressions x WHERE x.email_bidx IN (${p.bidx}, ${p.bidx2})) AS suppressed,
      NULL AS status, NULL AS granted_at, NULL AS notice_version, NULL AS notice_locale`.compile(
      compiler,
    ),
}))

export function readGateFactsOne(
  { query, queryOne }: Pick<Deps, 'query' | 'queryOne'>,
  purposeKey: string,
  ref: GateRef,
): GateRow | undefined | Promise<GateRow | undefined> {
  const [kind, value, second] = ref
  if (kind === 'id') return queryOne<GateRow>(gateByIdQuery({ purpose: purposeKey, id: value }))
  if (kind !== 'email') return undefined
  const bidx = { bidx: value, bidx2: second ?? value }
  // By address: not hot (a blind index is computed first anyway), so plainly async.
  return (async () => {
    const [found] = await query<GateRow>(gateByEmailQuery({ purpose: purposeKey, ...bidx }))
    // No contact: the address may still be suppressed (erased or objected, data gone).
    return found ?? (await query<GateRow>(suppressedOnlyQuery(bidx)))[0]
  })()
}
