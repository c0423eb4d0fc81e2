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

/** Every notice of a purpose, drafts included, by locale then version. */
export function listNoticesOf(db: DB, purposeKey: string): Promise<NoticeRow[]> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('purpose_key', '=', purposeKey)
    .orderBy('locale')
    .orderBy('version')
    .execute()
}

/** Every purpose, archived ones included (the console lists them all). */
export function listAllPurposes(db: DB): Promise<PurposeRow[]> {
  return db.selectFrom('purposes').selectAll().orderBy('position').execute()
}

/** The draft (unpublished notice) of a purpose in one locale, if any. */
export function findDraft(
  db: DB,
  purposeKey: string,
  locale: NoticeRow['locale'],
): Promise<NoticeRow | undefined> {
  return db
    .selectFrom('notices')
    .selectAll()
    .where('purpose_key', '=', purposeKey)
    .where('locale', '=', locale)
    .where('published_at', 'is', null)
    .executeTakeFirst()
}

/** The latest published version of a purpose's notice in one locale (0 when none). */
export async function latestPublishedVersion(
  db: DB,
  purposeKey: string,
  locale: NoticeRow['locale'],
): Promise<number> {
  const last = await db
    .selectFrom('notices')
    .select((eb) => eb.fn.max<number>('version').as('v'))
    .where('purpose_key', '=', purposeKey)
    .where('locale', '=', locale)
    .where('published_at', 'is not', null)
    .executeTakeFirst()
  return last?.v ?? 0
}

/** Changes a draft's wording (a published notice cannot change: the database refuses it). */
export async function updateDraft(
  db: DB,
  id: string,
  changes: Pick<NoticeRow, 'title' | 'body' | 'privacy_url' | 'requires_reconsent' | 'version'>,
): Promise<boolean> {
  const res = await db
    .updateTable('notices')
    .set(changes)
    .where('id', '=', id)
    .where('published_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) > 0
}

/** Publishes a draft with its content hash: from now on it never changes. */
export async function publishDraftRow(
  db: DB,
  id: string,
  contentHash: string,
  now: number,
  reconsentGraceUntil: number | null,
): Promise<boolean> {
  const res = await db
    .updateTable('notices')
    .set({
      published_at: now,
      content_hash: contentHash,
      reconsent_grace_until: reconsentGraceUntil,
    })
    .where('id', '=', id)
    .where('published_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numUpdatedRows) > 0
}

export async function deleteDraftRow(db: DB, id: string): Promise<boolean> {
  const res = await db
    .deleteFrom('notices')
    .where('id', '=', id)
    .where('published_at', 'is', null)
    .executeTakeFirst()
  return Number(res.numDeletedRows) > 0
}

/** Every hosted form. */
export function listForms(db: DB) {
  return db.selectFrom('forms').selectAll().orderBy('key').execute()
}

/** Creates a hosted form or changes the purposes it offers. */
export async function upsertForm(db: DB, key: string, purposes: string[], now: number) {
  await db
    .insertInto('forms')
    .values({ key, purposes: JSON.stringify(purposes), created_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ purposes: JSON.stringify(purposes) }))
    .execute()
}
