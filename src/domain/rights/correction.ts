/**
 * @module Rectification (GDPR Art. 16): the contact corrects their attributes and language, saved
 * encrypted and passed on to Mautic through the outbox (Art. 19). A new e-mail address is only
 * checked from here (see email-change.ts): it changes once its owner confirms it.
 */
import type { CompiledQuery } from 'kysely'
import { updateContactQuery, type ContactRow } from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { normalizeEmail } from '../../lib/email.ts'
import { isLocale, type Locale } from '../../lib/i18n.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { attributesAad, contactEmail } from '../platform/contacts.ts'
import { selfServiceDsrQuery } from './dsr.ts'
import { emailChangeQueries } from './email-change.ts'
import { hasMauticLinks, mauticUpdateQuery } from '../platform/mautic-queue.ts'
import { recipientNoticeQueries } from '../platform/recipient-queue.ts'

/** The fields every correction form offers, whether or not the contact has them yet. */
export const PROFILE_FIELDS = ['first_name', 'last_name'] as const
/** As POST /api/v1/subscriptions accepts them. */
export const ATTRIBUTE_NAME = /^[A-Za-z0-9_]{1,64}$/
export const ATTRIBUTE_MAX_LENGTH = 1000
export const MAX_ATTRIBUTES = 50

export interface CorrectionInput {
  attributes: Record<string, string>
  locale: string
  /** The address as typed; empty or unchanged leaves it as it is. */
  email: string
}

export interface CorrectionError {
  field: string
  code: 'too_long' | 'invalid' | 'too_many'
}

export type CorrectionResult =
  | { ok: true; changed: string[]; email: 'unchanged' | 'verification_sent' | 'throttled' }
  | { ok: false; errors: CorrectionError[] }

/** The contact's attributes in clear ({} when none, or once erased). */
export async function contactAttributes(
  deps: Pick<Deps, 'keys'>,
  row: ContactRow,
): Promise<Record<string, string>> {
  if (!row.attributes_enc) return {}
  return JSON.parse(
    await decryptField(deps.keys, row.attributes_enc, attributesAad(row.id)),
  ) as Record<string, string>
}

export function validateCorrection(input: CorrectionInput): CorrectionError[] {
  const errors: CorrectionError[] = []
  const entries = Object.entries(input.attributes)
  if (entries.length > MAX_ATTRIBUTES) errors.push({ field: 'attributes', code: 'too_many' })
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) errors.push({ field: 'attributes', code: 'invalid' })
    else if (value.length > ATTRIBUTE_MAX_LENGTH) errors.push({ field: name, code: 'too_long' })
  }
  if (!isLocale(input.locale)) errors.push({ field: 'locale', code: 'invalid' })
  const email = input.email.trim()
  if (email.length > 254) errors.push({ field: 'email', code: 'too_long' })
  else if (email !== '' && !normalizeEmail(email)) errors.push({ field: 'email', code: 'invalid' })
  return errors
}

/** Saves corrected attributes and language; a new address only gets its verification mail here. */
export async function correctContact(
  deps: Deps,
  contact: ContactRow,
  input: CorrectionInput,
): Promise<CorrectionResult> {
  const errors = validateCorrection(input)
  if (errors.length > 0) return { ok: false, errors }
  const now = deps.clock.now()
  const current = await contactAttributes(deps, contact)
  const next = { ...current }
  for (const [name, value] of Object.entries(input.attributes)) {
    const clean = value.trim()
    if (clean) next[name] = clean
    else delete next[name] // an emptied field is removed, not kept as ""
  }
  const changed = [...new Set([...Object.keys(current), ...Object.keys(next)])].filter(
    (k) => current[k] !== next[k],
  )
  const locale = input.locale as Locale
  if (locale !== contact.locale) changed.push('locale')

  const queries: CompiledQuery[] = []
  if (changed.length > 0) {
    const dsr = selfServiceDsrQuery(deps, {
      contactId: contact.id,
      kind: 'rectify',
      completed: true,
      details: { fields: changed },
    })
    queries.push(
      updateContactQuery(deps.db, contact.id, {
        attributes_enc:
          Object.keys(next).length > 0
            ? await encryptField(deps.keys, JSON.stringify(next), attributesAad(contact.id))
            : null,
        locale,
        updated_at: now,
      }),
      ...dsr.queries,
    )
    if (await hasMauticLinks(deps, contact.id)) queries.push(mauticUpdateQuery(deps, contact.id))
    // Art. 19: the corrected values reach every recipient of the register (a language is no data they hold).
    const corrected = changed.filter((k) => k !== 'locale')
    if (corrected.length > 0)
      queries.push(
        ...(await recipientNoticeQueries(deps, {
          contactId: contact.id,
          requestId: dsr.id,
          kind: 'rectify',
          subject: {
            email: await contactEmail(deps, contact),
            changes: Object.fromEntries(corrected.map((k) => [k, next[k] ?? null])),
          },
        })),
      )
  }

  let email: 'unchanged' | 'verification_sent' | 'throttled' = 'unchanged'
  const wanted = input.email.trim() ? normalizeEmail(input.email) : null
  if (wanted && wanted !== (await contactEmail(deps, contact))) {
    const check = await emailChangeQueries(deps, contact.id, wanted)
    email = check ? 'verification_sent' : 'throttled'
    queries.push(...(check ?? []))
  }
  if (queries.length > 0) await deps.atomic(queries)
  return { ok: true, changed, email }
}
