/**
 * @module Mails the console's steps send (`mail.dsr_extension`): the extension of a data-subject
 * request's deadline, with the new date and the reason (GDPR Art. 12(3)), rendered at delivery in the
 * person's language. A request completed meanwhile is not told about.
 */
import type { Deps } from '../deps.ts'
import { extensionMail } from '../domain/admin/requests.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { t } from '../lib/i18n.ts'
import { renderView } from '../lib/views.ts'
import { unescapeText } from '../mail/render.ts'

export function consoleOutboxHandlers(deps: Deps): Pick<OutboxHandlers, 'mail.dsr_extension'> {
  return {
    'mail.dsr_extension': async ({ requestId }) => {
      const m = await extensionMail(deps, requestId)
      if (!m) return
      const tag = m.locale === 'fr' ? 'fr-FR' : 'en-GB'
      const date = (ms: number) => new Date(ms).toLocaleDateString(tag, { timeZone: 'UTC' })
      const data = {
        org: deps.config.org.name,
        kind: t(m.locale, `admin.code.kind.${m.kind}`),
        received: date(m.receivedAt),
        due: date(m.dueAt),
        months: m.months,
        reason: m.reason,
      }
      const subject = t(m.locale, 'mail.dsr-extension.subject', data).replace(/\s+/g, ' ').trim()
      const context = { locale: m.locale, subject, data }
      await deps.mail.send({
        from: deps.config.mail.from,
        to: m.to,
        subject,
        html: renderView('email/dsr-extension.html', context),
        text: unescapeText(renderView('email/dsr-extension.text', context)),
      })
    },
  }
}
