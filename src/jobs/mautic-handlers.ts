/**
 * @module Outbox handlers for the Mautic connector (the kinds `mautic.*` of
 * src/domain/platform/outbox-messages.ts, which says what each carries). Without MAUTIC_URL the calls
 * to Mautic do nothing: there is no Mautic to keep in step. A Mautic failure throws, so the outbox
 * retries with backoff and dead-letters after its maximum.
 */
import { findContactById } from '../db/repositories/contacts.ts'
import { deleteMirrorQuery, mauticIdsOf } from '../db/repositories/mautic.ts'
import type { Deps } from '../deps.ts'
import { attributesAad, contactEmail } from '../domain/platform/contacts.ts'
import { eraseContact } from '../domain/rights/erasure.ts'
import { gateBatch } from '../domain/sending/gate.ts'
import { preferencesUrl, unsubscribeUrl } from '../domain/sending/links.ts'
import type { OutboxHandlers, OutboxPayloads } from '../domain/platform/outbox-messages.ts'
import { decryptField } from '../lib/keys.ts'
import { mirror } from '../mautic/mirror.ts'
import { processMauticEvent } from '../mautic/process.ts'
import { mauticFields } from '../mautic/sync.ts'
import { PROFILE_FIELDS } from '../domain/rights/correction.ts'

export function mauticOutboxHandlers(deps: Deps): MauticHandlers {
  return {
    'mautic.event': async (payload) => void (await processMauticEvent(deps, payload)),
    'mautic.mirror': async (payload) => void (await mirror(deps, payload)),
    'mautic.update': ({ contactId }) => pushCorrection(deps, contactId),
    'mautic.delete': async ({ mauticId }) => {
      if (!deps.mautic) return
      await deps.mautic.deleteContact(Number(mauticId))
      await deps.atomic([deleteMirrorQuery(deps.db, mauticId)])
    },
    'mautic.send_email': (payload) => sendCampaignEmail(deps, payload),
    'mautic.orphan': ({ contactId }) => eraseOrphan(deps, contactId),
  }
}

/**
 * The grace period after a Mautic deletion is over: if no Mautic contact links to the person again
 * (a merge re-links at once), the personal data goes. A retention clean-up, not the person's own
 * request: no suppression, and a later subscription is welcome.
 */
async function eraseOrphan(deps: Deps, contactId: string): Promise<void> {
  if ((await mauticIdsOf(deps.db, contactId)).length > 0) return
  const result = await eraseContact(deps, contactId, {
    suppress: null,
    method: 'retention',
    source: 'mautic:contact_deleted',
    actor: 'system',
    deleteInMautic: false,
    passOnToRecipients: false,
  })
  if (result.ok && result.status === 'erased')
    deps.logger.log('info', 'contact erased: no Mautic contact linked after the grace period', {
      contactId,
    })
}

/** Art. 19: a correction reaches every Mautic contact of the person. */
async function pushCorrection(deps: Deps, contactId: string): Promise<void> {
  const api = deps.mautic
  const contact = await findContactById(deps.db, contactId)
  if (!api || !contact || contact.status !== 'active') return
  const ids = await mauticIdsOf(deps.db, contactId)
  if (ids.length === 0) return
  const attributes: Record<string, unknown> = contact.attributes_enc
    ? (JSON.parse(
        await decryptField(deps.keys, contact.attributes_enc, attributesAad(contact.id)),
      ) as Record<string, unknown>)
    : {}
  const fields = mauticFields(attributes, PROFILE_FIELDS)
  const email = await contactEmail(deps, contact)
  if (email) {
    // Mautic MERGES two contacts when a PATCH gives one the unique address of another
    // (LeadApiController::preSaveEntity): the address is only sent when no other contact has it.
    const holders = await api.findContactsByEmail(email)
    if (holders.every((h) => ids.includes(String(h.id)))) fields.email = email
  }
  for (const id of ids) await api.editContact(Number(id), { fields })
}

type CampaignSend = OutboxPayloads['mautic.send_email']
type MauticHandlers = Pick<OutboxHandlers, Extract<keyof OutboxHandlers, `mautic.${string}`>>

/**
 * The campaign action's "send this e-mail": decided again at delivery (consent may have been withdrawn
 * since), then sent by Mautic with the gateway's links as tokens. Mautic sends API mail as
 * transactional, without List-Unsubscribe: the README routes it through the relay, which adds it.
 */
async function sendCampaignEmail(deps: Deps, s: CampaignSend): Promise<void> {
  if (!deps.mautic) return
  const decision = await gateBatch(deps, s.purpose, [{ contact_id: s.contactId }])
  if (!decision.ok || !decision.decisions[0]!.allowed) {
    deps.logger.log('info', 'campaign send dropped: consent changed before delivery', {
      purpose: s.purpose,
      reason: decision.ok ? decision.decisions[0]!.reason : decision.code,
    })
    return
  }
  await deps.mautic.sendEmail(s.emailId, Number(s.mauticId), {
    consent_unsubscribe_url: unsubscribeUrl(deps, s.contactId, s.purpose),
    consent_preferences_url: preferencesUrl(deps, s.contactId),
  })
}
