/**
 * @module MAIL_TRANSPORT=mautic: Mautic can only send one of its own e-mails to one of its contacts,
 * with tokens (`POST /api/emails/{id}/contact/{contactId}/send`, docs/mautic.md §2.3). Mautic 5
 * sends it as transactional, ignoring Do-Not-Contact, which suits the double opt-in confirmation and
 * nothing else: marketing mail goes through the SMTP relay or MAIL_TRANSPORT=smtp/http. (Newer
 * EmailApiController code passes the e-mail's own "send to DNC" setting instead: on such a release,
 * tick it on the confirmation e-mail, or a contact who once unsubscribed cannot re-subscribe.)
 */
import type { MauticApi } from '../mautic/types.ts'
import type { MailMessage, MailTransport, SentMail } from './message.ts'

/** Mautic e-mail ids per template the gateway sends: `confirm` is MAUTIC_CONFIRM_EMAIL_ID. */
export interface MauticEmails {
  confirm?: number
}

/**
 * `other` carries the gateway's other mails (data-access links, address checks) when SMTP_URL or
 * MAIL_HTTP_URL is also set; without it they fail loudly (and stay in the outbox) rather than vanish.
 */
export function mauticMailTransport(
  api: MauticApi,
  emails: MauticEmails,
  other?: MailTransport,
): MailTransport {
  return {
    name: 'mautic',
    async send(message: MailMessage): Promise<SentMail> {
      const emailId = message.template ? emails[message.template.name] : undefined
      if ((!message.template || emailId === undefined) && other) return other.send(message)
      if (!message.template || emailId === undefined)
        throw new Error(
          `MAIL_TRANSPORT=mautic sends only the double opt-in confirmation (the Mautic e-mail ` +
            `MAUTIC_CONFIRM_EMAIL_ID, with {consent_confirm_url}); this message ` +
            `${message.template ? `needs a Mautic e-mail for "${message.template.name}"` : 'has no Mautic template'}. ` +
            "Set SMTP_URL (or MAIL_HTTP_URL) too for the gateway's other mails (access links); " +
            'send marketing mail through the SMTP relay',
        )
      // Several contacts may share the address: the first (oldest) one. POST /contacts/new
      // deduplicates on e-mail, so creating is safe even if a contact appeared in between.
      const [existing] = await api.findContactsByEmail(message.to)
      const contactId = existing?.id ?? (await api.createContact(message.to))
      await api.sendEmail(emailId, contactId, message.template.tokens)
      // Mautic answers {"success":true} only: no Message-ID comes back.
      return { messageId: `mautic:email/${emailId}/contact/${contactId}` }
    },
  }
}
