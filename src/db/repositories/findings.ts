/**
 * @module The `compliance_findings` table: what a check found wrong (a send without consent, a consent
 * claimed in Mautic without proof, a contact without proof, a bounce; and the monitor's findings, one
 * open per kind and subject: migrations/0014_operations.sql), open until resolved.
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { ComplianceFindingsTable, DB, FindingKind, FindingSeverity } from '../database.ts'
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
      subject: null,
      severity: f.kind === 'send_without_consent' ? 'high' : 'medium',
      contact_id: f.contactId,
      mautic_id: f.mauticId,
      purpose_key: f.purposeKey,
      details: JSON.stringify(f.details),
      created_at: f.now,
      updated_at: f.now,
      resolved_at: null,
      resolution: null,
      alerted_at: null,
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

// The monitor's findings (0014): one open per (kind, subject), opened and closed by its checks.

/** The open findings that have a subject, of the given kinds. */
export function openSubjectFindings(db: DB, kinds: readonly FindingKind[]): Promise<FindingRow[]> {
  if (kinds.length === 0) return Promise.resolve([])
  return db
    .selectFrom('compliance_findings')
    .selectAll()
    .where('resolved_at', 'is', null)
    .where('subject', 'is not', null)
    .where('kind', 'in', kinds)
    .execute()
}

/** Opens a finding unless one is open already for its kind and subject. */
export function openSubjectFindingQuery(db: DB, row: FindingRow): CompiledQuery {
  return db
    .insertInto('compliance_findings')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['kind', 'subject'])
        .where('resolved_at', 'is', null)
        .where('subject', 'is not', null)
        .doNothing(),
    )
    .compile()
}

export function updateFindingQuery(
  db: DB,
  id: string,
  changes: { severity: FindingSeverity; details: string; updated_at: number },
): CompiledQuery {
  return db
    .updateTable('compliance_findings')
    .set(changes)
    .where('id', '=', id)
    .where('resolved_at', 'is', null)
    .compile()
}

/** Closes one open finding, saying why. */
export function resolveFindingQuery(
  db: DB,
  id: string,
  resolution: string,
  now: number,
): CompiledQuery {
  return db
    .updateTable('compliance_findings')
    .set({ resolved_at: now, resolution, updated_at: now })
    .where('id', '=', id)
    .where('resolved_at', 'is', null)
    .compile()
}

export function findFinding(db: DB, id: string): Promise<FindingRow | undefined> {
  return db.selectFrom('compliance_findings').selectAll().where('id', '=', id).executeTakeFirst()
}

export function findFindingsByIds(db: DB, ids: string[]): Promise<FindingRow[]> {
  if (ids.length === 0) return Promise.resolve([])
  return db
    .selectFrom('compliance_findings')
    .selectAll()
    .where('id', 'in', ids)
    .orderBy('created_at')
    .orderBy('id')
    .execute()
}

export interface FindingFilter {
  status?: 'open' | 'closed' | 'all'
  kind?: FindingKind
  limit?: number
}

/** Open ones by severity then age; closed ones newest first (the console, the admin API). */
export function listFindingRows(db: DB, filter: FindingFilter = {}): Promise<FindingRow[]> {
  let q = db.selectFrom('compliance_findings').selectAll()
  const status = filter.status ?? 'open'
  if (status === 'open') q = q.where('resolved_at', 'is', null)
  if (status === 'closed') q = q.where('resolved_at', 'is not', null)
  if (filter.kind) q = q.where('kind', '=', filter.kind)
  return q
    .orderBy(sql`resolved_at IS NOT NULL`)
    .orderBy(sql`CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END`)
    .orderBy(sql`COALESCE(resolved_at, 0)`, 'desc')
    .orderBy('created_at')
    .orderBy('id')
    .limit(filter.limit ?? 500)
    .execute()
}

/** How many findings are open, per kind. */
export async function countOpenFindingsByKind(db: DB): Promise<Map<FindingKind, number>> {
  const rows = await db
    .selectFrom('compliance_findings')
    .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('resolved_at', 'is', null)
    .groupBy('kind')
    .execute()
  return new Map(rows.map((r) => [r.kind, Number(r.n)]))
}

/** Open findings of `kinds` no alert named since `before`: most severe and oldest first. */
export function findingsDueForAlert(
  db: DB,
  kinds: readonly FindingKind[],
  before: number,
  limit: number,
): Promise<FindingRow[]> {
  return db
    .selectFrom('compliance_findings')
    .selectAll()
    .where('resolved_at', 'is', null)
    .where('kind', 'in', kinds)
    .where((eb) => eb.or([eb('alerted_at', 'is', null), eb('alerted_at', '<=', before)]))
    .orderBy(sql`CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END`)
    .orderBy('created_at')
    .limit(limit)
    .execute()
}

export function markAlertedQuery(db: DB, ids: string[], now: number): CompiledQuery {
  return db
    .updateTable('compliance_findings')
    .set({ alerted_at: now })
    .where('id', 'in', ids)
    .compile()
}
