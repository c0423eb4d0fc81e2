/**
 * @module Outbox handlers of the data-rights pages. Mails are rendered and their links signed at
 * delivery, in the contact's language, so the outbox row holds ids, never an address in clear:
 * - `mail.access` {contactId, requestId}: the one-hour link to the data pages (Art. 15), to the contact's address.
 * - `access.request` {requestId, emailEnc, receivedAt}: a /privacy request, queued for any address;
 *   the same mail when the address is a contact's (and its hourly limit allows), nothing otherwise.
 * - `mail.email_change` {contactId, requestId, emailEnc}: the check of a new address (Art. 16), sent to
 *   that new address, which travels encrypted (the same ciphertext the link carries).
 * Spread into `outboxHandlers()` (src/jobs/outbox-handlers.ts).
 */
import { findContactById } from '../db/repositories/contacts.ts'
import type { Deps } from '../deps.ts'
import { t, type Locale } from '../lib/i18n.ts'
import { renderView } from '../lib/views.ts'
import { unescapeText } from '../mail/render.ts'
import { accessUrl, ACCESS_TTL_MS, resolveAccessRequest } from '../domain/rights/access.ts'
import { contactEmail } from '../domain/platform/contacts.ts'
import { emailChangeUrl, EMAIL_CHANGE_TTL_MS, openNewEmail } from '../domain/rights/email-change.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'

/** The data-rights mails and what their templates need (views/email/<name>.{html,text}.hbs). */
interface DataRightsEmails {
  access: { org: string; url: string; minutes: number }
  'email-change': { org: string; url: string; hours: number }
  /** A staff invitation (src/jobs/admin-mail.ts). */
  'admin-invite': { org: string; url: string; role: string; hours: number }
}

/** As mail/render.ts's renderEmail: subject from `mail.<name>.subject`, HTML and text parts. */
export function renderDataRightsEmail<N extends keyof DataRightsEmails>(
  name: N,
  locale: Locale,
  data: DataRightsEmails[N],
) {
  const subject = t(locale, `mail.${name}.subject`, data).replace(/\s+/g, ' ').trim()
  const context = { locale, subject, data }
  return {
    subject,
    html: renderView(`email/${name}.html`, context),
    text: unescapeText(renderView(`email/${name}.text`, context)),
  }
}

export function dataRightsOutboxHandlers(
  deps: Deps,
): Pick<OutboxHandlers, 'mail.access' | 'mail.email_change' | 'access.request'> {
  const activeContact = async (id: string) => {
    const contact = await findContactById(deps.db, id)
    return contact?.status === 'active' ? contact : undefined
  }
  const sendAccessMail = async ({
    contactId,
    requestId,
  }: {
    contactId: string
    requestId: string
  }) => {
    const contact = await activeContact(contactId)
    const to = contact ? await contactEmail(deps, contact) : null
    if (!contact || !to) return // erased meanwhile: nobody to write to
    const mail = renderDataRightsEmail('access', contact.locale, {
      org: deps.config.org.name,
      url: await accessUrl(deps, contact.id, requestId),
      minutes: Math.round(ACCESS_TTL_MS / 60_000),
    })
    await deps.mail.send({ from: deps.config.mail.from, to, ...mail })
  }
  return {
    'mail.access': sendAccessMail,
    'access.request': async (job) => {
      const resolved = await resolveAccessRequest(deps, job)
      if (resolved) await sendAccessMail(resolved)
    },
    'mail.email_change': async (p) => {
      const contact = await activeContact(p.contactId)
      if (!contact) return
      const to = await openNewEmail(deps, p.contactId, p.requestId, p.emailEnc)
      const mail = renderDataRightsEmail('email-change', contact.locale, {
        org: deps.config.org.name,
        url: await emailChangeUrl(deps, p.contactId, p.requestId, p.emailEnc),
        hours: Math.round(EMAIL_CHANGE_TTL_MS / 3_600_000),
      })
      await deps.mail.send({ from: deps.config.mail.from, to, ...mail })
    },
  }
}
