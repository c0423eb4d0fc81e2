/** @module The `audit_log` table (migrations/0007_admin.sql): one global hash chain, append-only. */
import type { CompiledQuery, Selectable } from 'kysely'
import type { AuditLogTable, DB } from '../database.ts'

export type AuditRow = Selectable<AuditLogTable>

/** The chain's last link, if any. */
export function findAuditHead(db: DB): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** The last link written at or before `until` (what a checkpoint covers). */
export function findAuditHeadAt(
  db: DB,
  until: number,
): Promise<{ seq: number; hash: string } | undefined> {
  return db
    .selectFrom('audit_log')
    .select(['seq', 'hash'])
    .where('at', '<=', until)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst()
}

export function findAuditRow(db: DB, seq: number): Promise<AuditRow | undefined> {
  return db.selectFrom('audit_log').selectAll().where('seq', '=', seq).executeTakeFirst()
}

export function insertAuditQuery(db: DB, row: AuditRow): CompiledQuery {
  return db.insertInto('audit_log').values(row).compile()
}

/** Rows in chain order after `afterSeq`. */
export function auditPage(db: DB, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute()
}

export interface AuditFilter {
  actor?: string
  /** An action or an action prefix ending in "." (`signin.`). */
  action?: string
  outcome?: AuditRow['outcome']
  target?: string
  from?: number
  to?: number
  /** Rows with a lower seq only (paging backwards, newest first). */
  beforeSeq?: number
  limit: number
}

/** Newest first, filtered. */
export function listAuditRows(db: DB, f: AuditFilter): Promise<AuditRow[]> {
  let q = db.selectFrom('audit_log').selectAll()
  if (f.actor) q = q.where('actor', '=', f.actor)
  if (f.action)
    q = f.action.endsWith('.')
      ? q.where('action', 'like', `${f.action.replace(/[%_\\]/g, '')}%`)
      : q.where('action', '=', f.action)
  if (f.outcome) q = q.where('outcome', '=', f.outcome)
  if (f.target) q = q.where('target', '=', f.target)
  if (f.from !== undefined) q = q.where('at', '>=', f.from)
  if (f.to !== undefined) q = q.where('at', '<', f.to)
  if (f.beforeSeq !== undefined) q = q.where('seq', '<', f.beforeSeq)
  return q.orderBy('seq', 'desc').limit(f.limit).execute()
}
