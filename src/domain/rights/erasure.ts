/**
 * @module Erasure (GDPR Art. 17) as one atomic unit. The ledger keeps its events for accountability
 * (Art. 5(2), 7(1)), each purpose closed by an 'erased' event, but the contact's data key is destroyed
 * in the same unit, so their evidence can no longer be read while the hashes, computed over ciphertext,
 * still verify (crypto-shredding). The address survives only as keyed hashes on the suppression list,
 * so it is never mailed or re-imported; only a new subscription confirmed by double opt-in lifts it
 * (see optin.ts). The Mautic connector reuses this for retention clean-ups, without suppression.
 */
import type { CompiledQuery } from 'kysely'
import { findContactById, shredContactQuery } from '../../db/repositories/contacts.ts'
import {
  deleteContactLinksQuery,
  expirePendingOptinsQuery,
} from '../../db/repositories/suppressions.ts'
import { mauticIdsOf } from '../../db/repositories/mautic.ts'
import { deleteUndeliveredQuery } from '../../db/repositories/outbox.ts'
import type { Deps } from '../../deps.ts'
import { contactDataKey, contactEmail } from '../platform/contacts.ts'
import { recipientNoticeQueries } from '../platform/recipient-queue.ts'
import { buildEventQueries, commitWithChainRetry, statesAtHead } from '../consent/ledger.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { suppressionQueries } from './suppressions.ts'

export interface ErasureHow {
  /** 'erased' for the person's own request; null for a retention clean-up (nothing to block). */
  suppress: 'erased' | null
  /** self_service, admin, retention… (the erased events' method). */
  method: string
  source: string
  actor: string
  /** Delete the linked Mautic contacts too (through the outbox). */
  deleteInMautic: boolean
  /**
   * Pass the erasure on to every recipient of the processors register (Art. 19): the person's own
   * request, not a retention clean-up of data no recipient was given by this path.
   */
  passOnToRecipients: boolean
  /** The data-subject request this erasure answers (dsr_requests.id), shown per recipient. */
  requestId?: string
  /** More queries for the same unit, e.g. the DSR record. */
  extra?: CompiledQuery[]
}

export type ErasureResult =
  | { ok: true; status: 'erased'; purposes: string[]; mauticIds: string[] }
  | { ok: true; status: 'already_erased' }
  | { ok: false; code: 'unknown_contact' }

export async function eraseContact(
  deps: Deps,
  contactId: string,
  how: ErasureHow,
): Promise<ErasureResult> {
  return commitWithChainRetry<ErasureResult>(deps, async () => {
    const contact = await findContactById(deps.db, contactId)
    if (!contact) return { queries: [], result: { ok: false, code: 'unknown_contact' } }
    if (contact.status === 'erased')
      return { queries: [], result: { ok: true, status: 'already_erased' } }
    const now = deps.clock.now()
    const { head, states } = await statesAtHead(deps, contactId)
    const mauticIds = await mauticIdsOf(deps.db, contactId)

    // Built while the key still exists, committed in the same unit as its destruction.
    const built = await buildEventQueries(
      deps,
      { id: contactId, dataKey: await contactDataKey(deps, contact) },
      head,
      states.map((s) => ({
        purposeKey: s.purpose_key,
        action: 'erased' as const,
        noticeId: null,
        method: how.method,
        source: how.source,
        evidence: null, // anything sealed now would be unreadable the moment the unit commits
        actor: how.actor,
        occurredAt: now,
      })),
    )
    const queries: CompiledQuery[] = [...built.queries]
    // Read before the unit shreds it: the address each recipient knows the person by.
    if (how.passOnToRecipients)
      queries.push(
        ...(await recipientNoticeQueries(deps, {
          contactId,
          requestId: how.requestId ?? null,
          kind: 'erase',
          subject: { email: await contactEmail(deps, contact) },
        })),
      )
    if (how.suppress) queries.push(...(await suppressionQueries(deps, contact, how.suppress, now)))
    queries.push(
      shredContactQuery(deps.db, contactId, now),
      expirePendingOptinsQuery(deps.db, contactId),
      // Undelivered messages about the person (Mautic events, mails, mirror calls) hold their data.
      undeliveredFor(deps, [
        contactId,
        `mautic:${contactId}`,
        ...mauticIds.map((m) => `mautic:${m}`),
      ]),
    )
    if (how.deleteInMautic)
      for (const mauticId of mauticIds)
        queries.push(
          enqueueQuery(deps.db, now, {
            kind: 'mautic.delete',
            payload: { mauticId },
            orderingKey: `mautic:${mauticId}`,
          }),
        )
    queries.push(deleteContactLinksQuery(deps.db, contactId), ...(how.extra ?? []))
    return {
      queries,
      chains: built.rows.length > 0 ? [built.chain] : [],
      result: {
        ok: true,
        status: 'erased',
        purposes: states.map((s) => s.purpose_key),
        mauticIds,
      },
    }
  })
}

function undeliveredFor(deps: Pick<Deps, 'db'>, orderingKeys: string[]): CompiledQuery {
  return deleteUndeliveredQuery(deps.db, orderingKeys)
}
