/**
 * @module Every side effect the gateway has, in one place: each outbox message kind with its payload.
 * Producers enqueue with `enqueueQuery` (outbox.ts), which only takes a kind listed here with its
 * payload type; src/jobs/outbox-handlers.ts must handle every kind, with the same types. Payloads
 * hold ids and ciphertext, never personal data in clear (the outbox is a table like any other).
 */

/** The kinds and what each carries. Add a kind here, then its handler in src/jobs/. */
export interface OutboxPayloads {
  /** A marketing mail handed over by POST /api/v1/send, links already in it, encrypted; re-gated at delivery. */
  'mail.send': { contactId: string; purpose: string; message: string }
  /** The double opt-in mail: rendered and signed at delivery. */
  'mail.confirm': { requestId: string }
  /** The one-hour link to the data pages (GDPR Art. 15), to the contact's address. */
  'mail.access': { contactId: string; requestId: string }
  /**
   * An access request from /privacy, queued whether the address is known or not (the request does
   * the same work either way); the job decides whether a mail goes out. The address travels encrypted.
   */
  'access.request': { requestId: string; emailEnc: string; receivedAt: number }
  /** The check of a new address (Art. 16), sent to that address, which travels encrypted. */
  'mail.email_change': { contactId: string; requestId: string; emailEnc: string }
  /** A staff invitation: the one-time set-up link travels encrypted (only its hash is stored). */
  'mail.admin_invite': { userId: string; linkId: string; tokenEnc: string }
  /** One Mautic webhook event (compact, encrypted), in order per Mautic contact. */
  'mautic.event': { key: string; type: string; event: string }
  /** Make Mautic's Do-Not-Contact, tags and fields match the ledger. */
  'mautic.mirror': MirrorTarget
  /** Push corrected personal fields to every linked Mautic contact (Art. 16, 19). */
  'mautic.update': { contactId: string }
  /** The person's own erasure (Art. 17) deletes the Mautic contact. */
  'mautic.delete': { mauticId: string }
  /** The campaign gate's send through Mautic, gated again at delivery. */
  'mautic.send_email': { emailId: number; mauticId: string; contactId: string; purpose: string }
  /** No Mautic contact links to the person any more after the grace period: erase. */
  'mautic.orphan': { contactId: string }
  /**
   * A correction or erasure passed on to one recipient's webhook (Art. 19), signed with the Standard
   * Webhooks scheme; what it is about stays encrypted on the `recipient_notices` row.
   */
  'recipient.notify': { noticeId: string }
  /** A data-subject request's deadline extended (Art. 12(3)): the new date and the reason, to the person. */
  'mail.dsr_extension': { requestId: string }
  /** The 72-hour clock of a breach (Art. 33(1)): the reminder at 48 or 66 hours, to DPO_EMAIL. */
  'mail.incident_reminder': { incidentId: string; hours: 48 | 66 }
  /** A notice version requires re-consent: the new wording and the link, in the notice's language. */
  'mail.reconsent': { noticeId: string; contactId: string }
  /** The monitor's findings due an alert (at most one a day each), to ALERT_EMAIL or DPO_EMAIL. */
  'mail.alert': { alertId: string; findingIds: string[] }
  /** The same findings to ALERT_WEBHOOK_URL, signed with the Standard Webhooks scheme (webhook-id: alertId). */
  'alert.webhook': { alertId: string; findingIds: string[]; at: number }
}

/** A Mautic mirror runs for a gateway contact (all its Mautic contacts), one Mautic contact, or both. */
export interface MirrorTarget {
  contactId?: string
  mauticId?: string
}

export type OutboxKind = keyof OutboxPayloads

/** A kind and its payload, as enqueued: the union keeps the two in step. */
export type OutboxEnvelope = {
  [K in OutboxKind]: { kind: K; payload: OutboxPayloads[K] }
}[OutboxKind]

/** One handler per kind, typed by its payload: a missing or mistyped handler is a compile error. */
export type OutboxHandlers = { [K in OutboxKind]: (payload: OutboxPayloads[K]) => Promise<void> }

/**
 * What the delivery loop looks a handler up in: any kind (tests register their own), the payload as
 * parsed from JSON. src/jobs/outbox-handlers.ts builds it as a full `OutboxHandlers`.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- payloads arrive as parsed JSON; OutboxHandlers types them
export type OutboxHandlerTable = Record<string, ((payload: any) => Promise<void>) | undefined>
