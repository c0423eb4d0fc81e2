/**
 * @module Withdrawal: as easy as consent (GDPR Art. 7(3)), recorded in the ledger at once, so the gate
 * refuses the very next send. Only purposes currently granted or pending change; withdrawing twice
 * records nothing the second time.
 */
import { findContactById } from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { contactDataKey } from '../platform/contacts.ts'
import { buildEventQueries, commitWithChainRetry, statesAtHead } from './ledger.ts'
import { mirrorQueries } from '../platform/mautic-queue.ts'

export interface WithdrawalHow {
  /** one_click (RFC 8058), unsubscribe_page, preference_center, mautic, api… */
  method: string
  source: string
  actor: string
  evidence: Record<string, unknown>
}

export type WithdrawalResult =
  { ok: true; withdrawn: string[]; locale: 'fr' | 'en' } | { ok: false; code: 'unknown_contact' }

export async function withdraw(
  deps: Deps,
  contactId: string,
  purposes: string[],
  how: WithdrawalHow,
): Promise<WithdrawalResult> {
  return commitWithChainRetry<WithdrawalResult>(deps, async () => {
    const contact = await findContactById(deps.db, contactId)
    if (!contact || contact.status !== 'active')
      return { queries: [], result: { ok: false as const, code: 'unknown_contact' as const } }
    const { head, states } = await statesAtHead(deps, contactId)
    const now = deps.clock.now()
    const changing = purposes.filter((p) => {
      const s = states.find((st) => st.purpose_key === p)?.status
      return s === 'granted' || s === 'pending'
    })
    const result = { ok: true as const, withdrawn: changing, locale: contact.locale }
    if (changing.length === 0) return { queries: [], result }
    const events = changing.map((purposeKey) => ({
      purposeKey,
      action: 'withdrawn' as const,
      noticeId: null,
      method: how.method,
      source: how.source,
      evidence: how.evidence,
      actor: how.actor,
      occurredAt: now,
    }))
    const built = await buildEventQueries(
      deps,
      { id: contactId, dataKey: await contactDataKey(deps, contact) },
      head,
      events,
    )
    // Mirrored into Mautic (DNC reason 1: the contact's own withdrawal) through the outbox.
    const mirror = await mirrorQueries(deps, contactId, now)
    return { queries: [...built.queries, ...mirror], chains: [built.chain], result }
  })
}
