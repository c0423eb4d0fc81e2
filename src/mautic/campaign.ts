/**
 * @module The decision behind POST /hooks/mautic/campaign (src/routes/hooks/campaign.ts), the target of
 * Mautic's campaign action "Send a webhook": gate the contact for the purpose, and
 * - without an e-mail id: mirror the contact's DNC, tags and fields right before the answer, so the
 *   campaign's next step (Mautic's own "Send email", or a condition on the `consent_<key>` tag) is
 *   gated by Mautic itself;
 * - with an e-mail id, when allowed: ask Mautic, through the outbox, to send that e-mail with the
 *   gateway's links as the tokens {consent_unsubscribe_url} and {consent_preferences_url}.
 */
import { linkQuery } from '../db/repositories/mautic.ts'
import type { Deps } from '../deps.ts'
import { countRefusals } from '../domain/platform/counters.ts'
import { enqueueQuery } from '../domain/platform/outbox.ts'
import { gateBatch, type ContactRef } from '../domain/sending/gate.ts'
import { mauticOrderingKey, resolveContact } from './intake.ts'
import { mirror } from './mirror.ts'

/** Mautic's campaign webhook gives up after 10 s by default; the mirror must answer well before. */
const MIRROR_TIMEOUT_MS = 4_000

export interface CampaignRequest {
  purpose: string
  mauticId: string | null
  email: string | null
  emailId: number | null
}

export interface CampaignAnswer {
  body: { decision: 'allowed' | 'blocked'; reason: string | null; message?: string }
  /** Whether outbox rows were committed (the runtime then starts delivering them). */
  outboxPending: boolean
}

export async function campaignDecision(deps: Deps, req: CampaignRequest): Promise<CampaignAnswer> {
  const { purpose, mauticId, email, emailId } = req
  let outboxPending = false
  const now = deps.clock.now()
  const contact = await resolveContact(deps, mauticId, email)
  const active = contact?.status === 'active' ? contact : undefined
  // The campaign is how Mautic introduces a contact id the gateway may not know yet: link them.
  if (active && mauticId) await deps.atomic([linkQuery(deps.db, mauticId, active.id, now)])
  const ref: ContactRef = active ? { contact_id: active.id } : { email: email ?? '' }
  const result = await gateBatch(deps, purpose, [ref])
  if (!result.ok)
    return {
      body: { decision: 'blocked', reason: result.code, message: result.message },
      outboxPending,
    }
  const { allowed, reason } = result.decisions[0]!
  if (!allowed) await countRefusals(deps, 'campaign_gate', purpose, [reason ?? 'unknown_contact'])

  if (emailId !== null && allowed && active && mauticId) {
    await deps.atomic([
      enqueueQuery(deps.db, now, {
        kind: 'mautic.send_email',
        payload: { emailId, mauticId, contactId: active.id, purpose },
        orderingKey: mauticOrderingKey(mauticId),
      }),
    ])
    outboxPending = true
  } else if (emailId === null && mauticId && deps.mautic) {
    const target = { contactId: active?.id, mauticId }
    let timer: ReturnType<typeof setTimeout> | undefined
    const done = await Promise.race([
      mirror(deps, target).then(
        () => true,
        (err: unknown) => {
          deps.logger.log('warn', 'campaign gate: mirror failed, queued for retry', { err })
          return false
        },
      ),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), MIRROR_TIMEOUT_MS))),
    ])
    clearTimeout(timer)
    if (!done) {
      // Mautic slow or down: the decision stands, and the mirror is retried from the outbox.
      await deps.atomic([
        enqueueQuery(deps.db, now, {
          kind: 'mautic.mirror',
          payload: target,
          orderingKey: mauticOrderingKey(active?.id ?? mauticId),
        }),
      ])
      outboxPending = true
    }
  }
  return { body: { decision: allowed ? 'allowed' : 'blocked', reason }, outboxPending }
}
