/**
 * @module The Mautic mappings staff set up: which box of which Mautic form is consent to which purpose,
 * under which published wording (Art. 7(1): the proof must show what the person saw, so the notice
 * version is fixed here, not guessed at submission time), and which purpose a Mautic e-mail or e-mail
 * category serves (what its sends are checked against; unmapped e-mails count as `email_marketing`).
 */
import type { Deps } from '../deps.ts'
import type { Locale } from '../lib/i18n.ts'

export interface FormMapping {
  formId: string
  fieldAlias: string
  purposeKey: string
  noticeVersion: number
  locale: Locale
}

export interface EmailMapping {
  kind: 'email' | 'category'
  ref: string
  purposeKey: string
}

export type MappingResult =
  { ok: true; replaced: boolean; warning?: string } | { ok: false; error: string }

/** Mautic ids are positive integers; its form field aliases are lower-case letters, digits and `_`. */
const MAUTIC_ID = /^[1-9]\d{0,18}$/
const FIELD_ALIAS = /^[a-z0-9_]{1,191}$/

export async function mapFormField(
  deps: Pick<Deps, 'db' | 'clock'>,
  m: FormMapping,
): Promise<MappingResult> {
  if (!MAUTIC_ID.test(m.formId))
    return { ok: false, error: `"${m.formId}" is not a Mautic form id` }
  if (!FIELD_ALIAS.test(m.fieldAlias))
    return {
      ok: false,
      error: `"${m.fieldAlias}" is not a Mautic field alias (lower-case letters, digits and _)`,
    }
  const purpose = await findPurpose(deps, m.purposeKey)
  if (!purpose) return { ok: false, error: await unknownPurpose(deps, m.purposeKey) }
  const published = await deps.db
    .selectFrom('notices')
    .select('version')
    .where('purpose_key', '=', m.purposeKey)
    .where('locale', '=', m.locale)
    .where('published_at', 'is not', null)
    .orderBy('version')
    .execute()
  const versions = published.map((n) => n.version)
  if (!versions.includes(m.noticeVersion))
    return {
      ok: false,
      error:
        `notice version ${m.noticeVersion} of "${m.purposeKey}" (${m.locale}) is not published` +
        (versions.length > 0
          ? `; published versions: ${versions.join(', ')}`
          : `; no ${m.locale} notice of it is published yet`),
    }
  const replaced = await deps.db
    .selectFrom('mautic_form_fields')
    .select('purpose_key')
    .where('form_id', '=', m.formId)
    .where('field_alias', '=', m.fieldAlias)
    .executeTakeFirst()
  await deps.db
    .insertInto('mautic_form_fields')
    .values({
      form_id: m.formId,
      field_alias: m.fieldAlias,
      purpose_key: m.purposeKey,
      notice_version: m.noticeVersion,
      locale: m.locale,
      created_at: deps.clock.now(),
    })
    .onConflict((oc) =>
      oc.columns(['form_id', 'field_alias']).doUpdateSet((eb) => ({
        purpose_key: eb.ref('excluded.purpose_key'),
        notice_version: eb.ref('excluded.notice_version'),
        locale: eb.ref('excluded.locale'),
        created_at: eb.ref('excluded.created_at'),
      })),
    )
    .execute()
  const latest = Math.max(...versions)
  return {
    ok: true,
    replaced: replaced !== undefined,
    // Allowed (a form may lag behind), but said: a newer version marked "requires re-consent" makes
    // the gate refuse consents given under this one.
    ...(m.noticeVersion < latest && {
      warning: `version ${latest} of "${m.purposeKey}" (${m.locale}) is published: update the form's wording and this mapping`,
    }),
  }
}

export async function mapEmail(
  deps: Pick<Deps, 'db' | 'clock'>,
  m: EmailMapping,
): Promise<MappingResult> {
  if (!MAUTIC_ID.test(m.ref))
    return {
      ok: false,
      error: `"${m.ref}" is not a Mautic ${m.kind === 'email' ? 'e-mail' : 'category'} id`,
    }
  const purpose = await findPurpose(deps, m.purposeKey)
  if (!purpose) return { ok: false, error: await unknownPurpose(deps, m.purposeKey) }
  // A Mautic e-mail is sent on the e-mail channel: checking it against a web or data purpose would
  // pass sends that no e-mail consent covers.
  if (purpose.channel !== 'email')
    return {
      ok: false,
      error: `"${m.purposeKey}" is a ${purpose.channel} purpose: a Mautic e-mail can only serve an e-mail purpose`,
    }
  const replaced = await deps.db
    .selectFrom('mautic_email_purposes')
    .select('purpose_key')
    .where('kind', '=', m.kind)
    .where('ref', '=', m.ref)
    .executeTakeFirst()
  await deps.db
    .insertInto('mautic_email_purposes')
    .values({ kind: m.kind, ref: m.ref, purpose_key: m.purposeKey, created_at: deps.clock.now() })
    .onConflict((oc) =>
      oc.columns(['kind', 'ref']).doUpdateSet((eb) => ({
        purpose_key: eb.ref('excluded.purpose_key'),
        created_at: eb.ref('excluded.created_at'),
      })),
    )
    .execute()
  return { ok: true, replaced: replaced !== undefined }
}

export async function listMappings(deps: Pick<Deps, 'db'>) {
  const forms = await deps.db
    .selectFrom('mautic_form_fields')
    .selectAll()
    .orderBy('form_id')
    .orderBy('field_alias')
    .execute()
  const emails = await deps.db
    .selectFrom('mautic_email_purposes')
    .selectAll()
    .orderBy('kind', 'desc') // e-mails first: their mapping wins over their category's
    .orderBy('ref')
    .execute()
  return {
    forms: forms.map((r): FormMapping => ({
      formId: r.form_id,
      fieldAlias: r.field_alias,
      purposeKey: r.purpose_key,
      noticeVersion: r.notice_version,
      locale: r.locale as Locale,
    })),
    emails: emails.map((r): EmailMapping => ({
      kind: r.kind,
      ref: r.ref,
      purposeKey: r.purpose_key,
    })),
  }
}

function findPurpose(deps: Pick<Deps, 'db'>, key: string) {
  return deps.db
    .selectFrom('purposes')
    .select(['key', 'channel'])
    .where('key', '=', key)
    .where('archived_at', 'is', null)
    .executeTakeFirst()
}

async function unknownPurpose(deps: Pick<Deps, 'db'>, key: string): Promise<string> {
  const keys = await deps.db
    .selectFrom('purposes')
    .select('key')
    .where('archived_at', 'is', null)
    .orderBy('position')
    .execute()
  return `unknown purpose "${key}"; the purposes are: ${keys.map((k) => k.key).join(', ')}`
}
