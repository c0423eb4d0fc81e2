/**
 * @module Objection to all direct marketing (GDPR Art. 21(2)-(3)): once objected, the data may no
 * longer be processed for such purposes. In one unit: `objected_at` set (the gate refuses every send,
 * legitimate-interest purposes included), the address on the suppression list, and every purpose still
 * granted or pending withdrawn in the ledger (all the purposes this gateway records serve marketing).
 * Mautic is brought in step through the outbox. Objecting twice changes nothing the second time.
 */
import type { CompiledQuery } from 'kysely'
import { findContactById, updateContactQuery } from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { contactDataKey } from '../platform/contacts.ts'
import { mirrorQueries } from '../platform/mautic-queue.ts'
import { buildEventQueries, commitWithChainRetry, statesAtHead } from '../consent/ledger.ts'
import { suppressionQueries } from './suppressions.ts'

export interface ObjectionHow {
  method: string
  source: string
  actor: string
  evidence: Record<string, unknown>
  /** More queries for the same unit, e.g. the DSR record. */
  extra?: CompiledQuery[]
}

export type ObjectionResult =
  | { ok: true; status: 'objected' | 'already_objected'; withdrawn: string[] }
  | { ok: false; code: 'unknown_contact' }

export async function objectToMarketing(
  deps: Deps,
  contactId: string,
  how: ObjectionHow,
): Promise<ObjectionResult> {
  return commitWithChainRetry<ObjectionResult>(deps, async () => {
    const contact = await findContactById(deps.db, contactId)
    if (!contact || contact.status !== 'active')
      return { queries: [], result: { ok: false, code: 'unknown_contact' } }
    const { head, states } = await statesAtHead(deps, contactId)
    const withdrawing = states
      .filter((s) => s.status === 'granted' || s.status === 'pending')
      .map((s) => s.purpose_key)
    if (contact.objected_at !== null && withdrawing.length === 0)
      return { queries: [], result: { ok: true, status: 'already_objected', withdrawn: [] } }

    const now = deps.clock.now()
    const built = await buildEventQueries(
      deps,
      { id: contactId, dataKey: await contactDataKey(deps, contact) },
      head,
      withdrawing.map((purposeKey) => ({
        purposeKey,
        action: 'withdrawn' as const,
        noticeId: null,
        method: how.method,
        source: how.source,
        evidence: { ...how.evidence, objection: true },
        actor: how.actor,
        occurredAt: now,
      })),
    )
    const queries: CompiledQuery[] = [
      ...built.queries,
      updateContactQuery(deps.db, contactId, {
        objected_at: contact.objected_at ?? now,
        updated_at: now,
      }),
      ...(await suppressionQueries(deps, contact, 'objected', now)),
    ]
    // Mautic brought in step (DNC, tags, fields) when the contact is linked there.
    queries.push(...(await mirrorQueries(deps, contactId, now)))
    queries.push(...(how.extra ?? []))
    return {
      queries,
      chains: built.rows.length > 0 ? [built.chain] : [],
      result: { ok: true, status: 'objected', withdrawn: withdrawing },
    }
  })
}
