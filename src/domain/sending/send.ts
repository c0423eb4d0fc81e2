/**
 * @module Sending for tools that hand the mail over (POST /api/v1/send): decide with the gate, add the
 * unsubscribe and preference links (footer and RFC 8058 headers), hand it to the transport. A mail the
 * transport does not take at once is queued in the outbox (encrypted) and retried; the gate is asked
 * again right before each retry, so a withdrawal made in between still wins.
 */
import { findContactById } from '../../db/repositories/contacts.ts'
import type { Deps } from '../../deps.ts'
import { normalizeEmail } from '../../lib/email.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { injectLinks, listHeadersFor } from '../../mail/inject.ts'
import type { MailMessage } from '../../mail/message.ts'
import type { GateReason } from '../consent/gate-decision.ts'
import { gateBatch, gateByEmail } from './gate.ts'
import { preferencesUrl, purposeListId, unsubscribeMailto, unsubscribeUrl } from './links.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { countRefusals } from '../platform/counters.ts'

export interface SendInput {
  purpose: string
  to: string
  subject: string
  html?: string
  text?: string
  locale?: 'fr' | 'en'
}

export type SendResult =
  /** Taken by the transport, or (`retry`) queued in the outbox after the transport refused it. */
  | { status: 'queued'; id: string; retry: boolean }
  | { status: 'blocked'; reason: GateReason }
  | { status: 'invalid'; code: 'unknown_purpose' | 'invalid_to'; message: string }

/** Binds the sealed message to its recipient contact: it cannot be moved to another one unnoticed. */
const payloadAad = (contactId: string) => `outbox.mail.send:${contactId}`

export async function sendMarketingMail(deps: Deps, input: SendInput): Promise<SendResult> {
  const to = normalizeEmail(input.to)
  if (!to)
    return { status: 'invalid', code: 'invalid_to', message: 'to is not a valid e-mail address' }
  // The decision and the contact to link come from one read: nothing can change in between.
  const gate = await gateByEmail(deps, input.purpose, to)
  if (!gate.ok) return { status: 'invalid', code: gate.code, message: gate.message }
  const { decision, contact } = gate
  if (!decision.allowed) return { status: 'blocked', reason: decision.reason! }
  if (!contact) return { status: 'blocked', reason: 'unknown_contact' } // allowed implies found
  const locale = input.locale ?? contact.locale
  const unsubscribe = unsubscribeUrl(deps, contact.id, input.purpose)
  const injected = injectLinks({
    html: input.html,
    text: input.text,
    locale,
    org: deps.config.org.name,
    unsubscribeUrl: unsubscribe,
    preferencesUrl: preferencesUrl(deps, contact.id),
  })
  const list = listHeadersFor({
    unsubscribeUrl: unsubscribe,
    mailto: await unsubscribeMailto(deps, contact.id, input.purpose),
    listId: purposeListId(deps.config, input.purpose),
  })
  const message: MailMessage = {
    from: deps.config.mail.from,
    to,
    subject: input.subject,
    html: injected.html ?? '',
    text: injected.text ?? '',
    headers: list.headers,
    listUnsubscribe: list.listUnsubscribe,
  }
  const id = uuidv7(deps.clock.now())
  if (await deliverAtOnce(deps, message, { id, contactId: contact.id }))
    return { status: 'queued', id, retry: false }
  // The message holds the address and the content: encrypted at rest like every personal field.
  const sealed = await encryptField(deps.keys, JSON.stringify(message), payloadAad(contact.id))
  await deps.atomic([
    enqueueQuery(
      deps.db,
      deps.clock.now(),
      {
        kind: 'mail.send',
        payload: { contactId: contact.id, purpose: input.purpose, message: sealed },
        orderingKey: contact.id,
      },
      id,
    ),
  ])
  return { status: 'queued', id, retry: true }
}

/**
 * After the transport failed, mails go straight to the outbox for this long: during an outage an API
 * call does not wait out an SMTP timeout each time. The outbox loop, woken by each queued mail,
 * delivers them as soon as the transport takes mail again (a refusal of one message pauses the
 * direct path too: those mails then go out through the loop instead, moments later).
 */
export const DIRECT_PAUSE_MS = 60_000
const failedAt = new WeakMap<object, number>()

/**
 * The transport takes the mail during the request, so an accepted mail costs no durable write: it is
 * the transport's (an SMTP server's queue, the log file) once this resolves. False: queue it instead.
 */
async function deliverAtOnce(
  deps: Deps,
  message: MailMessage,
  about: { id: string; contactId: string },
): Promise<boolean> {
  const failed = failedAt.get(deps.mail)
  if (failed !== undefined && deps.clock.now() - failed < DIRECT_PAUSE_MS) return false
  try {
    await deps.mail.send(message)
    failedAt.delete(deps.mail)
    return true
  } catch (err) {
    failedAt.set(deps.mail, deps.clock.now())
    deps.logger.log('warn', 'mail not taken by the transport: queued for retry', {
      ...about,
      transport: deps.mail.name,
      error: String((err as Error)?.message ?? err).slice(0, 500),
    })
    return false
  }
}

/** The outbox handler: the gate once more (a withdrawal since queuing wins), then the transport. */
export async function deliverMarketingMail(
  deps: Deps,
  payload: { contactId: string; purpose: string; message: string },
) {
  const gate = await gateBatch(deps, payload.purpose, [{ contact_id: payload.contactId }])
  if (!gate.ok || !gate.decisions[0]!.allowed) {
    // A refusal of the send API's mail all the same, counted where the dashboard reads it.
    if (gate.ok)
      await countRefusals(deps, 'send_api', payload.purpose, [gate.decisions[0]!.reason!])
    deps.logger.log('info', 'queued mail dropped: the gate now refuses it', {
      contactId: payload.contactId,
      reason: gate.ok ? gate.decisions[0]!.reason : gate.code,
    })
    return
  }
  if (!(await findContactById(deps.db, payload.contactId))) return
  const message = JSON.parse(
    await decryptField(deps.keys, payload.message, payloadAad(payload.contactId)),
  ) as MailMessage
  await deps.mail.send(message)
}
