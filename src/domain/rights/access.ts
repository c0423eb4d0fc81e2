/**
 * @module Access to one's own data (GDPR Art. 15) by a short-lived link mailed to the address. The
 * preference-center link travels with every mail and gets forwarded, so it never opens personal data;
 * only this link does, and only the mailbox's owner receives it. Asking for an unknown address does the
 * same work up to the look-up and answers the same; the mail itself leaves from the outbox, so the
 * response time does not tell whether the address is known.
 */
import type { CompiledQuery } from 'kysely'
import { findContactByBlindIndexes, type ContactRow } from '../../db/repositories/contacts.ts'
import { noOpWriteQuery } from '../../db/repositories/rate-limits.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes } from '../../lib/email.ts'
import { contactEmail } from '../platform/contacts.ts'
import { selfServiceDsrQuery } from './dsr.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { hitRateLimit } from '../platform/rate-limits.ts'
import { signLinkToken, verifyLinkToken } from '../platform/link-tokens.ts'

/** How long a mailed access link opens the data pages. */
export const ACCESS_TTL_MS = 60 * 60_000
/** Access mails per address (whoever asks, from /privacy or the preference center). */
export const ACCESS_ADDRESS_LIMIT = { limit: 3, windowMs: 60 * 60_000 }

/**
 * The request recorded and the mail queued, in one unit; the payload names the contact, not the address.
 * No ordering key: nothing must wait behind this mail, and it need not wait behind anything.
 */
function accessRequestQueries(
  deps: Pick<Deps, 'db' | 'clock'>,
  contactId: string,
  source: string,
): CompiledQuery[] {
  const dsr = selfServiceDsrQuery(deps, { contactId, kind: 'access', details: { source } })
  return [
    dsr.query,
    enqueueQuery(deps.db, deps.clock.now(), {
      kind: 'mail.access',
      payload: { contactId, requestId: dsr.id },
    }),
  ]
}

const addressLimit = (deps: Deps, normalizedEmail: string) =>
  hitRateLimit(deps, {
    bucket: 'access-address',
    subject: normalizedEmail,
    ...ACCESS_ADDRESS_LIMIT,
  })

/**
 * From /privacy: mails an access link when the (normalised) address belongs to an active contact. The
 * caller answers the same whatever this returns. An unknown address writes nothing but its rate-limit
 * counter, which holds a keyed hash, as a known one's does, and spends a write's round trip.
 */
export async function requestAccessByEmail(deps: Deps, normalizedEmail: string): Promise<boolean> {
  const [bidxes, limited] = await Promise.all([
    blindIndexes(deps.hmac, deps.keys, normalizedEmail),
    addressLimit(deps, normalizedEmail),
  ])
  const contact = await findContactByBlindIndexes(deps.db, bidxes)
  if (!limited.allowed || !contact || contact.status !== 'active') {
    // The same atomic round trip as a known address's write (one D1 batch takes milliseconds), so the
    // answer's timing does not tell whether the address is known; it changes nothing.
    await deps.atomic([sameCostAsAWrite(deps)])
    return false
  }
  await deps.atomic(accessRequestQueries(deps, contact.id, 'privacy_form'))
  return true
}

const sameCostAsAWrite = (deps: Pick<Deps, 'db'>): CompiledQuery => noOpWriteQuery(deps.db)

/** From the preference center: the same mail, to the contact's own address. */
export async function requestAccessForContact(deps: Deps, contact: ContactRow): Promise<boolean> {
  const email = contact.status === 'active' ? await contactEmail(deps, contact) : null
  if (!email || !(await addressLimit(deps, email)).allowed) return false
  await deps.atomic(accessRequestQueries(deps, contact.id, 'preference_center'))
  return true
}

/** The link the mail carries: contact id and request id, signed, valid ACCESS_TTL_MS from sending. */
export async function accessUrl(
  deps: Pick<Deps, 'keys' | 'clock' | 'config' | 'hmac'>,
  contactId: string,
  requestId: string,
): Promise<string> {
  const now = deps.clock.now()
  const token = await signLinkToken(
    deps.keys,
    'access',
    { sub: contactId, r: requestId },
    now + ACCESS_TTL_MS,
    now,
    deps.hmac,
  )
  return `${deps.config.publicUrl}/me/${token}`
}

export type AccessToken =
  { status: 'valid'; contactId: string; requestId: string } | { status: 'expired' | 'invalid' }

/**
 * Reads an access token. Tokens of the same audience that do something else (`act`, e.g. the check of
 * a new address, mailed to an address not yet proven to be the contact's) never open the data pages.
 */
export async function readAccessToken(
  deps: Pick<Deps, 'keys' | 'clock' | 'hmac'>,
  token: string,
  act?: string,
): Promise<AccessToken & { claims?: Record<string, unknown> }> {
  const verified = await verifyLinkToken(deps.keys, token, 'access', deps.clock.now(), deps.hmac)
  if (verified.status === 'invalid') return { status: 'invalid' }
  const { claims } = verified
  if (typeof claims.r !== 'string' || claims.act !== act) return { status: 'invalid' }
  if (verified.status === 'expired') return { status: 'expired' }
  return { status: 'valid', contactId: claims.sub, requestId: claims.r, claims }
}
