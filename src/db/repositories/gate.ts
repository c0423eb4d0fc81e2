/**
 * @module Everything the gate needs for a batch of contacts in ONE query: the references travel as one
 * JSON parameter joined with json_each (D1 allows only 100 bound parameters; 10,000 contacts would
 * otherwise take 10,000 queries or 100 batches).
 */
import { sql } from 'kysely'
import type { DB } from '../database.ts'

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
      s.status, s.granted_at, n.version AS notice_version, n.locale AS notice_locale
    FROM resolved r
    LEFT JOIN contacts c ON c.id = r.contact_id
    LEFT JOIN consent_state s ON s.contact_id = r.contact_id AND s.purpose_key = ${purposeKey}
    LEFT JOIN notices n ON n.id = s.notice_id
    ORDER BY r.idx`.execute(db)
  return rows
}
