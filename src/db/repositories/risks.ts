/**
 * @module `risk_findings` (migrations/0012_compliance.sql): what the risk scan found, opened when a
 * condition appears and closed when it is gone; at most one open finding per (kind, subject).
 */
import { sql, type CompiledQuery, type Selectable } from 'kysely'
import type { DB, RiskFindingsTable, RiskSeverity } from '../database.ts'

export type RiskFindingRow = Selectable<RiskFindingsTable>

export function openRiskFindings(db: DB): Promise<RiskFindingRow[]> {
  return db.selectFrom('risk_findings').selectAll().where('closed_at', 'is', null).execute()
}

export interface RiskFilter {
  status?: 'open' | 'closed' | 'all'
  severity?: RiskSeverity
  kind?: string
  limit?: number
}

/** Open ones by severity then age; closed ones newest first. */
export function listRiskFindings(db: DB, filter: RiskFilter = {}): Promise<RiskFindingRow[]> {
  let q = db.selectFrom('risk_findings').selectAll()
  const status = filter.status ?? 'open'
  if (status === 'open') q = q.where('closed_at', 'is', null)
  if (status === 'closed') q = q.where('closed_at', 'is not', null)
  if (filter.severity) q = q.where('severity', '=', filter.severity)
  if (filter.kind) q = q.where('kind', '=', filter.kind)
  return q
    .orderBy(sql`closed_at IS NOT NULL`)
    .orderBy(sql`CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END`)
    .orderBy('opened_at')
    .orderBy('id')
    .limit(filter.limit ?? 1000)
    .execute()
}

/** Opens a finding unless one is already open for the same kind and subject. */
export function openRiskQuery(db: DB, row: RiskFindingRow): CompiledQuery {
  return db
    .insertInto('risk_findings')
    .values(row)
    .onConflict((oc) => oc.columns(['kind', 'subject']).where('closed_at', 'is', null).doNothing())
    .compile()
}

export function updateRiskQuery(
  db: DB,
  id: string,
  changes: { severity: RiskSeverity; details: string; updated_at: number },
): CompiledQuery {
  return db.updateTable('risk_findings').set(changes).where('id', '=', id).compile()
}

export function closeRiskQuery(db: DB, id: string, now: number): CompiledQuery {
  return db
    .updateTable('risk_findings')
    .set({ closed_at: now, updated_at: now })
    .where('id', '=', id)
    .where('closed_at', 'is', null)
    .compile()
}

/** Open `no_proof` findings of the Mautic sync (compliance_findings). */
export async function countOpenFindings(db: DB, kind: 'no_proof'): Promise<number> {
  const row = await db
    .selectFrom('compliance_findings')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('kind', '=', kind)
    .where('resolved_at', 'is', null)
    .executeTakeFirst()
  return Number(row?.n ?? 0)
}
