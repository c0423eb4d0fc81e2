/**
 * @module The Mautic mappings staff set up: which box of which Mautic form is consent to which purpose,
 * under which published wording (Art. 7(1): the proof must show what the person saw, so the notice
 * version is fixed here, not guessed at submission time), and which purpose a Mautic e-mail or e-mail
 * category serves (what its sends are checked against; unmapped e-mails count as `email_marketing`).
 */
import {
  findEmailMappingPurpose,
  findFormFieldPurpose,
  listEmailMappings,
  listFormFields,
  upsertEmailMapping,
  upsertFormField,
} from '../db/repositories/mautic-mappings.ts'
import {
  findActivePurpose,
  listPurposes,
  publishedNoticeVersions,
} from '../db/repositories/purposes.ts'
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
  const versions = await publishedNoticeVersions(deps.db, m.purposeKey, m.locale)
  if (!versions.includes(m.noticeVersion))
    return {
      ok: false,
      error:
        `notice version ${m.noticeVersion} of "${m.purposeKey}" (${m.locale}) is not published` +
        (versions.length > 0
          ? `; published versions: ${versions.join(', ')}`
          : `; no ${m.locale} notice of it is published yet`),
    }
  const replaced = await findFormFieldPurpose(deps.db, m.formId, m.fieldAlias)
  await upsertFormField(deps.db, {
    form_id: m.formId,
    field_alias: m.fieldAlias,
    purpose_key: m.purposeKey,
    notice_version: m.noticeVersion,
    locale: m.locale,
    created_at: deps.clock.now(),
  })
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
  const replaced = await findEmailMappingPurpose(deps.db, m.kind, m.ref)
  await upsertEmailMapping(deps.db, {
    kind: m.kind,
    ref: m.ref,
    purpose_key: m.purposeKey,
    created_at: deps.clock.now(),
  })
  return { ok: true, replaced: replaced !== undefined }
}

export async function listMappings(deps: Pick<Deps, 'db'>) {
  const [forms, emails] = await Promise.all([listFormFields(deps.db), listEmailMappings(deps.db)])
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
  return findActivePurpose(deps.db, key)
}

async function unknownPurpose(deps: Pick<Deps, 'db'>, key: string): Promise<string> {
  const keys = (await listPurposes(deps.db)).map((p) => p.key)
  return `unknown purpose "${key}"; the purposes are: ${keys.join(', ')}`
}
