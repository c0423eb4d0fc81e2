/**
 * @module Double opt-in: confirming a request (POST only: mail scanners follow GET links), resending
 * its mail (throttled), and expiring requests left unconfirmed, whose personal data is then purged.
 * A confirmation link confirms once: after its request is confirmed, or once anything but a newer
 * request happened to its purposes (a withdrawal, a confirmation through another link), it confirms
 * nothing more, and its page says so and points to the preference center. An old link clicked after a
 * one-click withdrawal must not grant the purpose again.
 */
import type { CompiledQuery } from 'kysely'
import {
  deleteSuppressionsQuery,
  findContactById,
  findContactByBlindIndexes,
  shredContactQuery,
  updateContactQuery,
} from '../../db/repositories/contacts.ts'
import { findEventActions, findStates } from '../../db/repositories/ledger.ts'
import {
  findExpiredPending,
  findLatestOptinRequest,
  findOptinRequest,
  hasOtherPending,
  markSentQuery,
  setOptinStatusQuery,
  type OptinRequestRow,
} from '../../db/repositories/optin.ts'
import { mirrorQueries } from '../platform/mautic-queue.ts'
import { findNoticesByIds } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes, normalizeEmail } from '../../lib/email.ts'
import type { Locale } from '../../lib/i18n.ts'
import { contactDataKey, contactEmail } from '../platform/contacts.ts'
import { buildEventQueries, chainHead, commitWithChainRetry, statesAtHead } from './ledger.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { isThrottled } from './subscriptions.ts'
import { verifyLinkToken } from '../platform/link-tokens.ts'

export type ConfirmOutcome =
  | { status: 'confirmed'; locale: Locale; purposes: string[] }
  /** The link did its job already; `used`: the person's choices changed since it was sent. */
  | { status: 'already_confirmed' | 'used'; locale: Locale; contactId: string }
  | { status: 'expired'; locale?: Locale }
  | { status: 'invalid' }

/**
 * Checks a confirmation token without changing anything (what GET /c/{token} shows). `beforeReads`
 * runs once the contact is known and before the ledger is read (a unit reads its chain head there).
 */
export async function inspectConfirmToken(
  deps: Deps,
  token: string,
  beforeReads?: (contactId: string) => Promise<void>,
): Promise<
  ConfirmOutcome | { status: 'ready'; locale: Locale; purposes: string[]; request: OptinRequestRow }
> {
  const now = deps.clock.now()
  const verified = verifyLinkToken(deps.keys, token, 'confirm', now)
  if (verified.status === 'invalid') return { status: 'invalid' }
  const request = await findOptinRequest(deps.db, verified.claims.sub)
  if (!request) return { status: 'invalid' }
  const { locale, contact_id: contactId } = request
  await beforeReads?.(contactId)
  if (request.status === 'confirmed') return { status: 'already_confirmed', locale, contactId }
  if (verified.status === 'expired' || request.status === 'expired' || request.expires_at < now)
    return { status: 'expired', locale }
  const purposes = await stillConfirmable(deps, request)
  if (purposes.length === 0) {
    // Confirmed through another link, or changed since (withdrawn): the page says which.
    const states = await findStates(deps.db, contactId)
    const requested = JSON.parse(request.purposes) as string[]
    const granted = requested.every(
      (k) => states.find((s) => s.purpose_key === k)?.status === 'granted',
    )
    return { status: granted ? 'already_confirmed' : 'used', locale, contactId }
  }
  return { status: 'ready', locale, purposes, request }
}

/**
 * The purposes of a pending request its link may still confirm: those to which nothing but newer
 * requests happened since its own `requested` event (a withdrawal, a confirmation, an expiry spend it).
 */
async function stillConfirmable(deps: Deps, request: OptinRequestRow): Promise<string[]> {
  const purposes = JSON.parse(request.purposes) as string[]
  const events = await findEventActions(deps.db, request.contact_id, purposes)
  return purposes.filter((key) => {
    const own = events.find(
      (e) =>
        e.purpose_key === key && e.action === 'requested' && e.occurred_at === request.created_at,
    )
    const since = own ? own.seq : Infinity
    return !events.some(
      (e) =>
        e.purpose_key === key &&
        e.action !== 'requested' &&
        (e.seq > since || (!own && e.occurred_at > request.created_at)),
    )
  })
}

/** Confirms every purpose of the request, recording the confirming IP, user agent and time. */
export async function confirmOptin(
  deps: Deps,
  token: string,
  evidence: { ip?: string; user_agent?: string },
): Promise<ConfirmOutcome> {
  return commitWithChainRetry(deps, async () => {
    const none = (result: ConfirmOutcome) => ({ queries: [] as CompiledQuery[], result })
    // The head first, then what the decision rests on (statesAtHead in ledger.ts says why).
    let head: Awaited<ReturnType<typeof chainHead>> | undefined
    const checked = await inspectConfirmToken(deps, token, async (contactId) => {
      head = await chainHead(deps, contactId)
    })
    if (checked.status !== 'ready') return none(checked)
    const now = deps.clock.now()
    const { request } = checked
    const contact = await findContactById(deps.db, request.contact_id)
    if (!contact || contact.status !== 'active') return none({ status: 'invalid' })
    const noticeIds = JSON.parse(request.notices) as Record<string, string>
    const shown = await findNoticesByIds(deps.db, Object.values(noticeIds))
    const events = checked.purposes.map((purposeKey) => ({
      purposeKey,
      action: 'confirmed' as const,
      noticeId: noticeIds[purposeKey] ?? null,
      noticeVersion: shown.find((n) => n.id === noticeIds[purposeKey])?.version ?? null,
      noticeLocale: shown.find((n) => n.id === noticeIds[purposeKey])?.locale ?? null,
      method: 'double_opt_in',
      source: request.source,
      evidence: { ...evidence, request_id: request.id, requested_at: request.created_at },
      actor: 'contact',
      occurredAt: now,
    }))
    const built = await buildEventQueries(
      deps,
      { id: contact.id, dataKey: await contactDataKey(deps, contact) },
      head!,
      events,
    )
    const queries = [...built.queries, setOptinStatusQuery(deps.db, request.id, 'confirmed', now)]
    // A confirmed new subscription is what lifts a suppression (the person's own, proven choice).
    if (contact.email_bidx) queries.push(deleteSuppressionsQuery(deps.db, [contact.email_bidx]))
    // …and an objection (Art. 21): the person's new, proven choice replaces it.
    if (contact.objected_at !== null)
      queries.push(updateContactQuery(deps.db, contact.id, { objected_at: null, updated_at: now }))
    // A fresh confirmed grant is what lifts the DNC in Mautic.
    queries.push(...(await mirrorQueries(deps, contact.id, now)))
    return {
      queries,
      chains: [built.chain],
      result: { status: 'confirmed', locale: request.locale, purposes: checked.purposes },
    }
  })
}

/**
 * Sends the latest pending request's mail again. The caller answers the same whatever happens here,
 * so that nobody learns whether an address is known (no user enumeration).
 */
export async function resendConfirmation(deps: Deps, email: string): Promise<'sent' | 'nothing'> {
  const normalized = normalizeEmail(email)
  if (!normalized) return 'nothing'
  const contact = await findContactByBlindIndexes(
    deps.db,
    await blindIndexes(deps.hmac, deps.keys, normalized),
  )
  if (!contact || contact.status !== 'active') return 'nothing'
  const request = await findLatestOptinRequest(deps.db, contact.id)
  const now = deps.clock.now()
  if (!request || request.status !== 'pending' || request.expires_at < now) return 'nothing'
  if (await isThrottled(deps, contact.id, now)) return 'nothing'
  await deps.atomic([
    markSentQuery(deps.db, request.id, now),
    enqueueQuery(deps.db, now, {
      kind: 'mail.confirm',
      payload: { requestId: request.id },
      orderingKey: contact.id,
    }),
  ])
  return 'sent'
}

/**
 * Expires requests left unconfirmed past their validity: their pending purposes become "expired", and
 * when the contact holds nothing else (no grant, no other pending request) its personal data is purged.
 */
export async function expireOptinRequests(deps: Deps, limit = 100): Promise<number> {
  const now = deps.clock.now()
  let expired = 0
  for (const request of await findExpiredPending(deps.db, now, limit)) {
    await commitWithChainRetry(deps, async () => {
      const { head, states } = await statesAtHead(deps, request.contact_id)
      const purposes = JSON.parse(request.purposes) as string[]
      const stillPending = purposes.filter(
        (k) => states.find((s) => s.purpose_key === k)?.status === 'pending',
      )
      const events = stillPending.map((purposeKey) => ({
        purposeKey,
        action: 'expired' as const,
        noticeId: null,
        method: 'expiry',
        source: 'scheduler',
        evidence: null,
        actor: 'system',
        occurredAt: now,
      }))
      const built = await buildEventQueries(
        deps,
        { id: request.contact_id, dataKey: null },
        head,
        events,
      )
      const queries = [...built.queries, setOptinStatusQuery(deps.db, request.id, 'expired', now)]
      const keepsSomething =
        states.some(
          (s) =>
            s.status === 'granted' ||
            (s.status === 'pending' && !stillPending.includes(s.purpose_key)),
        ) || (await hasOtherPending(deps.db, request.contact_id, request.id))
      if (!keepsSomething) queries.push(shredContactQuery(deps.db, request.contact_id, now))
      return { queries, chains: events.length > 0 ? [built.chain] : [], result: undefined }
    })
    expired++
  }
  return expired
}

/** The address a request's confirmation mail goes to (decrypted only when sending). */
export async function requestRecipient(deps: Deps, contactId: string): Promise<string | null> {
  const contact = await findContactById(deps.db, contactId)
  return contact && contact.status === 'active' ? contactEmail(deps, contact) : null
}
