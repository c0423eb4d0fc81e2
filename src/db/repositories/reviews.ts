/**
 * @module `compliance_reviews` (migrations/0014_operations.sql): the quarterly review a DPO signs off,
 * one per calendar quarter.
 */
import type { CompiledQuery, Selectable } from 'kysely'
import type { ComplianceReviewsTable, DB } from '../database.ts'

export type ReviewRow = Selectable<ComplianceReviewsTable>

/** Signs a quarter off; a quarter already signed keeps its first sign-off. */
export const insertReviewQuery = (db: DB, row: ReviewRow): CompiledQuery =>
  db
    .insertInto('compliance_reviews')
    .values(row)
    .onConflict((oc) => oc.column('quarter').doNothing())
    .compile()

export function findReview(db: DB, quarter: string): Promise<ReviewRow | undefined> {
  return db
    .selectFrom('compliance_reviews')
    .selectAll()
    .where('quarter', '=', quarter)
    .executeTakeFirst()
}

export function listReviews(db: DB, limit: number): Promise<ReviewRow[]> {
  return db
    .selectFrom('compliance_reviews')
    .selectAll()
    .orderBy('quarter', 'desc')
    .limit(limit)
    .execute()
}
