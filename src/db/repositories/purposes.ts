/** @module Purposes and their published notices. */
import type { Selectable } from 'kysely'
import type { DB, NoticesTable, PurposesTable } from '../database.ts'

export type PurposeRow = Selectable<PurposesTable>
export type NoticeRow = Selectable<NoticesTable>

export function listPurposes(db: DB): Promise<PurposeRow[]> {
  return db
    .selectFrom('purposes')
    .selectAll()
    .where('archived_at', 'is', null)
    .orderBy('position')
    .execute()
}

/** Every published notice version (a few per purpose and locale). */
export function listPublishedNotices(db: DB): Promise<NoticeRow[]> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('published_at', 'is not', null)
    .orderBy('purpose_key')
    .orderBy('version')
    .execute()
}

export function findNoticesByIds(db: DB, ids: string[]): Promise<NoticeRow[]> {
  if (ids.length === 0) return Promise.resolve([])
  return db.selectFrom('notices').selectAll().where('id', 'in', ids).execute()
}

export async function findFormPurposes(db: DB, key: string): Promise<string[] | undefined> {
  const row = await db
    .selectFrom('forms')
    .select('purposes')
    .where('key', '=', key)
    .executeTakeFirst()
  return row ? (JSON.parse(row.purposes) as string[]) : undefined
}

/** A published notice by purpose, locale and version (what a mapped Mautic form shows). */
export function findPublishedNotice(
  db: DB,
  purposeKey: string,
  locale: 'fr' | 'en',
  version: number,
): Promise<NoticeRow | undefined> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('purpose_key', '=', purposeKey)
    .where('locale', '=', locale)
    .where('version', '=', version)
    .where('published_at', 'is not', null)
    .executeTakeFirst()
}
