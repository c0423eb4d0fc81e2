/**
 * @module The `compliance_findings` table: what a check found wrong (a send without consent, a consent
 * claimed in Mautic without proof, a contact without proof, a bounce), open until resolved.
 */
import type { CompiledQuery, Selectable } from 'kysely'
import type { ComplianceFindingsTable, DB, FindingKind } from '../database.ts'
import { uuidv7 } from '../../lib/ids.ts'

export type FindingRow = Selectable<ComplianceFindingsTable>

export function insertFindingQuery(
  db: DB,
  f: {
    kind: FindingKind
    contactId: string | null
    mauticId: string | null
    purposeKey: string | null
    details: Record<string, unknown>
    now: number
  },
): CompiledQuery {
  return db
    .insertInto('compliance_findings')
    .values({
      id: uuidv7(f.now),
      kind: f.kind,
      contact_id: f.contactId,
      mautic_id: f.mauticId,
      purpose_key: f.purposeKey,
      details: JSON.stringify(f.details),
      created_at: f.now,
      resolved_at: null,
      resolution: null,
    })
    .compile()
}

export function listFindings(db: DB, opts: { open?: boolean; kind?: FindingKind } = {}) {
  let q = db.selectFrom('compliance_findings').selectAll().orderBy('created_at').orderBy('id')
  if (opts.open) q = q.where('resolved_at', 'is', null)
  if (opts.kind) q = q.where('kind', '=', opts.kind)
  return q.execute()
}

/** The purposes of a Mautic contact's open findings of one kind. */
export async function openFindingPurposes(
  db: DB,
  mauticId: string,
  kind: FindingKind,
): Promise<Set<string>> {
  const rows = await db
    .selectFrom('compliance_findings')
    .select('purpose_key')
    .where('mautic_id', '=', mauticId)
    .where('kind', '=', kind)
    .where('resolved_at', 'is', null)
    .execute()
  return new Set(rows.map((r) => r.purpose_key ?? ''))
}

/** Closes a Mautic contact's open findings of one kind, saying why. */
export function resolveFindingsQuery(
  db: DB,
  f: { kind: FindingKind; mauticId: string; resolution: string; now: number },
): CompiledQuery {
  return db
    .updateTable('compliance_findings')
    .set({ resolved_at: f.now, resolution: f.resolution })
    .where('kind', '=', f.kind)
    .where('mautic_id', '=', f.mauticId)
    .where('resolved_at', 'is', null)
    .compile()
}
