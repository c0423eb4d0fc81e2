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

/** A purpose that is not archived, by key. */
export function findActivePurpose(db: DB, key: string) {
  return db
    .selectFrom('purposes')
    .select(['key', 'channel'])
    .where('key', '=', key)
    .where('archived_at', 'is', null)
    .executeTakeFirst()
}

/** The published versions of a purpose's notice in one locale, oldest first. */
export async function publishedNoticeVersions(
  db: DB,
  purposeKey: string,
  locale: NoticeRow['locale'],
): Promise<number[]> {
  const rows = await db
    .selectFrom('notices')
    .select('version')
    .where('purpose_key', '=', purposeKey)
    .where('locale', '=', locale)
    .where('published_at', 'is not', null)
    .orderBy('version')
    .execute()
  return rows.map((n) => n.version)
}

/** Adds a purpose at the end of the list; false when the key exists already. */
export async function insertPurpose(
  db: DB,
  row: Omit<PurposeRow, 'position' | 'archived_at'>,
): Promise<boolean> {
  const position = await db
    .selectFrom('purposes')
    .select((eb) => eb.fn.max<number>('position').as('max'))
    .executeTakeFirst()
  const result = await db
    .insertInto('purposes')
    .values({ ...row, position: (position?.max ?? 0) + 1, archived_at: null })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst()
  return Boolean(result.numInsertedOrUpdatedRows)
}

/** The latest notice version of a purpose in one locale, published or not (0 when none). */
export async function latestNoticeVersion(
  db: DB,
  purposeKey: string,
  locale: NoticeRow['locale'],
): Promise<number> {
  const last = await db
    .selectFrom('notices')
    .select((eb) => eb.fn.max<number>('version').as('v'))
    .where('purpose_key', '=', purposeKey)
    .where('locale', '=', locale)
    .executeTakeFirst()
  return last?.v ?? 0
}

/** Inserts a notice version; false when that version exists already (a concurrent publication). */
export async function insertNotice(db: DB, row: NoticeRow): Promise<boolean> {
  const res = await db
    .insertInto('notices')
    .values(row)
    .onConflict((oc) => oc.columns(['purpose_key', 'locale', 'version']).doNothing())
    .executeTakeFirst()
  return Boolean(res.numInsertedOrUpdatedRows)
}
