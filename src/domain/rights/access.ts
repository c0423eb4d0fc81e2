/**
 * @module Access to one's own data (GDPR Art. 15) by a short-lived link mailed to the address. The
 * preference-center link travels with every mail and gets forwarded, so it never opens personal data;
 * only this link does, and only the mailbox's owner receives it. A request from /privacy does the same
 * work whether the address is known or not: it queues one job with the address encrypted, and the job
 * looks the address up and decides whether a mail goes out. So neither the answer, nor its time, nor
 * what the request writes tells whether the address is known (no user enumeration).
 */
import type { CompiledQuery } from 'kysely'
import { findContactByBlindIndexes, type ContactRow } from '../../db/repositories/contacts.ts'
import { findDsr } from '../../db/repositories/dsr.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes } from '../../lib/email.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
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
    ...dsr.queries,
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

const accessRequestAad = (requestId: string) => `outbox.access_request:${requestId}`

/**
 * From /privacy: queues the request, whatever the address. One encryption and one write, the same
 * for a known and an unknown address; the job (`resolveAccessRequest`) does the rest.
 */
export async function requestAccessByEmail(deps: Deps, normalizedEmail: string): Promise<void> {
  const now = deps.clock.now()
  const requestId = crypto.randomUUID()
  const emailEnc = await encryptField(deps.keys, normalizedEmail, accessRequestAad(requestId))
  await deps.atomic([
    enqueueQuery(deps.db, now, {
      kind: 'access.request',
      payload: { requestId, emailEnc, receivedAt: now },
    }),
  ])
}

/**
 * The job of a /privacy request: when the address belongs to an active contact and its hourly limit
 * allows, records the access request (received when the page was sent) and returns what the mail
 * needs; null when no mail goes out. Run again after a failed mail, it finds the request recorded and
 * returns it again, counting nothing twice.
 */
export async function resolveAccessRequest(
  deps: Deps,
  job: { requestId: string; emailEnc: string; receivedAt: number },
): Promise<{ contactId: string; requestId: string } | null> {
  const recorded = await findDsr(deps.db, job.requestId)
  if (recorded?.contact_id) return { contactId: recorded.contact_id, requestId: recorded.id }
  const email = await decryptField(deps.keys, job.emailEnc, accessRequestAad(job.requestId))
  if (!(await addressLimit(deps, email)).allowed) return null
  const contact = await findContactByBlindIndexes(
    deps.db,
    await blindIndexes(deps.hmac, deps.keys, email),
  )
  if (!contact || contact.status !== 'active') return null
  const dsr = selfServiceDsrQuery(deps, {
    id: job.requestId,
    contactId: contact.id,
    kind: 'access',
    receivedAt: job.receivedAt,
    details: { source: 'privacy_form' },
  })
  await deps.atomic(dsr.queries)
  return { contactId: contact.id, requestId: dsr.id }
}

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
  const token = signLinkToken(
    deps.keys,
    'access',
    { sub: contactId, r: requestId },
    now + ACCESS_TTL_MS,
    now,
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
  const verified = verifyLinkToken(deps.keys, token, 'access', deps.clock.now())
  if (verified.status === 'invalid') return { status: 'invalid' }
  const { claims } = verified
  if (typeof claims.r !== 'string' || claims.act !== act) return { status: 'invalid' }
  if (verified.status === 'expired') return { status: 'expired' }
  return { status: 'valid', contactId: claims.sub, requestId: claims.r, claims }
}
