/**
 * @module The check of a new e-mail address (GDPR Art. 16): a signed link goes to that address, and only
 * its confirmation there (a POST) changes the contact's address and blind index. The new address travels
 * encrypted, in the outbox row and inside the link, bound to its request: nothing in clear is stored
 * before it is proven. An address that belongs to another contact is refused with a neutral message,
 * shown only to whoever opened the link in that mailbox, so the requester learns nothing.
 */
import type { CompiledQuery } from 'kysely'
import {
  findContactByBlindIndexes,
  findContactById,
  updateContactQuery,
  type ContactRow,
} from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes } from '../../lib/email.ts'
import type { Locale } from '../../lib/i18n.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { readAccessToken } from './access.ts'
import { contactEmail, emailAad } from '../platform/contacts.ts'
import { hasMauticLinks, mauticUpdateQuery } from '../platform/mautic-queue.ts'
import { recipientNoticeQueries } from '../platform/recipient-queue.ts'
import { completeSelfServiceQuery, selfServiceDsrQuery } from './dsr.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { hitRateLimit } from '../platform/rate-limits.ts'
import { signLinkToken } from '../platform/link-tokens.ts'

/** The check of a new address stays valid a day. */
export const EMAIL_CHANGE_TTL_MS = 24 * 60 * 60_000
const EMAIL_CHANGE_LIMIT = { limit: 5, windowMs: 24 * 60 * 60_000 }

const newEmailAad = (contactId: string, requestId: string) =>
  `contacts.email_change:${contactId}:${requestId}`

/**
 * A rectification request awaiting the new address's check, and the mail that checks it; null when
 * this contact asked for too many changes today.
 */
export async function emailChangeQueries(
  deps: Deps,
  contactId: string,
  newEmail: string,
): Promise<CompiledQuery[] | null> {
  const limited = await hitRateLimit(deps, {
    bucket: 'email-change',
    subject: contactId,
    ...EMAIL_CHANGE_LIMIT,
  })
  if (!limited.allowed) return null
  const dsr = selfServiceDsrQuery(deps, {
    contactId,
    kind: 'rectify',
    verified: true,
    details: { fields: ['email'], check: 'new_address' },
  })
  const emailEnc = await encryptField(deps.keys, newEmail, newEmailAad(contactId, dsr.id))
  return [
    ...dsr.queries,
    enqueueQuery(deps.db, deps.clock.now(), {
      kind: 'mail.email_change',
      payload: { contactId, requestId: dsr.id, emailEnc },
    }),
  ]
}

/** The new address, decrypted (only to send the mail, or to apply the change). */
export function openNewEmail(
  deps: Pick<Deps, 'keys'>,
  contactId: string,
  requestId: string,
  emailEnc: string,
): Promise<string> {
  return decryptField(deps.keys, emailEnc, newEmailAad(contactId, requestId))
}

/**
 * The link mailed to the new address: the address travels inside it encrypted, bound to the request.
 * The token comes first in the path, where the logs redact it, as every /me link's does.
 */
export async function emailChangeUrl(
  deps: Pick<Deps, 'keys' | 'clock' | 'config' | 'hmac'>,
  contactId: string,
  requestId: string,
  emailEnc: string,
): Promise<string> {
  const now = deps.clock.now()
  const claims = { sub: contactId, r: requestId, act: 'email', e: emailEnc }
  const token = signLinkToken(deps.keys, 'access', claims, now + EMAIL_CHANGE_TTL_MS, now)
  return `${deps.config.publicUrl}/me/${token}/address`
}

export type EmailChangeCheck =
  | { status: 'ready'; contact: ContactRow; newEmail: string; requestId: string }
  | { status: 'already'; contact: ContactRow }
  | { status: 'invalid' | 'expired' }

/** Checks a new-address link without changing anything (what GET shows). */
export async function inspectEmailChange(deps: Deps, token: string): Promise<EmailChangeCheck> {
  const read = await readAccessToken(deps, token, 'email')
  if (read.status !== 'valid') return { status: read.status }
  const contact = await findContactById(deps.db, read.contactId)
  if (!contact || contact.status !== 'active' || typeof read.claims?.e !== 'string')
    return { status: 'invalid' }
  let newEmail: string
  try {
    newEmail = await openNewEmail(deps, contact.id, read.requestId, read.claims.e)
  } catch {
    return { status: 'invalid' } // encrypted under a secret no longer held
  }
  if ((await contactEmail(deps, contact)) === newEmail) return { status: 'already', contact }
  return { status: 'ready', contact, newEmail, requestId: read.requestId }
}

export type EmailChangeOutcome =
  { status: 'changed' | 'already' | 'refused'; locale: Locale } | { status: 'invalid' | 'expired' }

/** Applies a checked new address: new ciphertext and blind index, the request completed, Mautic told. */
export async function confirmEmailChange(deps: Deps, token: string): Promise<EmailChangeOutcome> {
  const check = await inspectEmailChange(deps, token)
  if (!('contact' in check)) return { status: check.status }
  const { contact } = check
  if (check.status !== 'ready') return { status: 'already', locale: contact.locale }
  const bidxes = await blindIndexes(deps.hmac, deps.keys, check.newEmail)
  const holder = await findContactByBlindIndexes(deps.db, bidxes)
  if (holder && holder.id !== contact.id) return { status: 'refused', locale: contact.locale }
  const now = deps.clock.now()
  const queries = [
    updateContactQuery(deps.db, contact.id, {
      email_enc: await encryptField(deps.keys, check.newEmail, emailAad(contact.id)),
      email_bidx: bidxes[0]!,
      bidx_kid: deps.keys.current.kid,
      updated_at: now,
    }),
    completeSelfServiceQuery(deps, check.requestId),
  ]
  if (await hasMauticLinks(deps, contact.id)) queries.push(mauticUpdateQuery(deps, contact.id))
  // Art. 19: every recipient knows the person by the former address, and learns the new one.
  queries.push(
    ...(await recipientNoticeQueries(deps, {
      contactId: contact.id,
      requestId: check.requestId,
      kind: 'rectify',
      subject: { email: await contactEmail(deps, contact), changes: { email: check.newEmail } },
    })),
  )
  try {
    await deps.atomic(queries)
  } catch (err) {
    // Another contact took the address between the look-up and the write (contacts_email_bidx).
    if (/UNIQUE constraint failed: contacts\.email_bidx/.test(String((err as Error)?.message)))
      return { status: 'refused', locale: contact.locale }
    throw err
  }
  return { status: 'changed', locale: contact.locale }
}
