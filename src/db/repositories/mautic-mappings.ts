/**
 * @module The Mautic mappings (tables `mautic_form_fields` and `mautic_email_purposes`): which box of
 * which Mautic form means consent to which purpose, and which purpose a Mautic e-mail or category serves.
 */
import type { Selectable } from 'kysely'
import type { DB, MauticEmailPurposesTable, MauticFormFieldsTable } from '../database.ts'

export type FormFieldRow = Selectable<MauticFormFieldsTable>
export type EmailPurposeRow = Selectable<MauticEmailPurposesTable>

/** The purpose a form field is mapped to now, if any. */
export async function findFormFieldPurpose(
  db: DB,
  formId: string,
  fieldAlias: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('mautic_form_fields')
    .select('purpose_key')
    .where('form_id', '=', formId)
    .where('field_alias', '=', fieldAlias)
    .executeTakeFirst()
  return row?.purpose_key
}

/** Maps a form field (or re-maps it: the last mapping wins). */
export async function upsertFormField(db: DB, row: FormFieldRow): Promise<void> {
  await db
    .insertInto('mautic_form_fields')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['form_id', 'field_alias']).doUpdateSet((eb) => ({
        purpose_key: eb.ref('excluded.purpose_key'),
        notice_version: eb.ref('excluded.notice_version'),
        locale: eb.ref('excluded.locale'),
        created_at: eb.ref('excluded.created_at'),
      })),
    )
    .execute()
}

/** The purpose a Mautic e-mail or category is mapped to now, if any. */
export async function findEmailMappingPurpose(
  db: DB,
  kind: EmailPurposeRow['kind'],
  ref: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('mautic_email_purposes')
    .select('purpose_key')
    .where('kind', '=', kind)
    .where('ref', '=', ref)
    .executeTakeFirst()
  return row?.purpose_key
}

/** Maps a Mautic e-mail or category (or re-maps it: the last mapping wins). */
export async function upsertEmailMapping(db: DB, row: EmailPurposeRow): Promise<void> {
  await db
    .insertInto('mautic_email_purposes')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['kind', 'ref']).doUpdateSet((eb) => ({
        purpose_key: eb.ref('excluded.purpose_key'),
        created_at: eb.ref('excluded.created_at'),
      })),
    )
    .execute()
}

export function listFormFields(db: DB): Promise<FormFieldRow[]> {
  return db
    .selectFrom('mautic_form_fields')
    .selectAll()
    .orderBy('form_id')
    .orderBy('field_alias')
    .execute()
}

export function listEmailMappings(db: DB): Promise<EmailPurposeRow[]> {
  return db
    .selectFrom('mautic_email_purposes')
    .selectAll()
    .orderBy('kind', 'desc') // e-mails first: their mapping wins over their category's
    .orderBy('ref')
    .execute()
}

export function formFieldsOf(db: DB, formId: string): Promise<FormFieldRow[]> {
  return db.selectFrom('mautic_form_fields').selectAll().where('form_id', '=', formId).execute()
}

export async function emailPurposeOf(
  db: DB,
  emailId: string | null,
  categoryId: string | null,
): Promise<string | undefined> {
  const rows = await db
    .selectFrom('mautic_email_purposes')
    .select(['kind', 'purpose_key'])
    .where((eb) =>
      eb.or([
        eb.and([eb('kind', '=', 'email'), eb('ref', '=', emailId ?? '')]),
        eb.and([eb('kind', '=', 'category'), eb('ref', '=', categoryId ?? '')]),
      ]),
    )
    .execute()
  // An e-mail's own mapping is more specific than its category's.
  return (rows.find((r) => r.kind === 'email') ?? rows[0])?.purpose_key
}
