/**
 * @module What each kind of outbox message does when delivered: one handler for every kind listed in
 * src/domain/platform/outbox-messages.ts (the compiler checks that none is missing).
 */
import type { Deps } from '../deps.ts'
import { findOptinRequest } from '../db/repositories/optin.ts'
import { renderEmail } from '../mail/render.ts'
import { requestRecipient } from '../domain/consent/optin.ts'
import { deliverMarketingMail } from '../domain/sending/send.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { signLinkToken } from '../domain/platform/link-tokens.ts'
import { findNoticesByIds } from '../db/repositories/purposes.ts'
import { mauticOutboxHandlers } from './mautic-handlers.ts'
import { dataRightsOutboxHandlers } from './data-rights-mail.ts'
import { complianceMailHandlers } from './compliance-mail.ts'
import { recipientOutboxHandlers } from './recipient-webhook.ts'
import { adminOutboxHandlers } from './admin-mail.ts'
import { consoleOutboxHandlers } from './console-mail.ts'
import { operationsOutboxHandlers } from './operations-mail.ts'

export function outboxHandlers(deps: Deps): OutboxHandlers {
  return {
    ...mauticOutboxHandlers(deps),
    ...dataRightsOutboxHandlers(deps),
    ...recipientOutboxHandlers(deps),
    ...complianceMailHandlers(deps),
    ...adminOutboxHandlers(deps),
    ...consoleOutboxHandlers(deps),
    ...operationsOutboxHandlers(deps),
    /** A marketing mail handed over by POST /api/v1/send, links already in it. */
    'mail.send': (payload) => deliverMarketingMail(deps, payload),
    /** The double opt-in mail: rendered and signed at delivery, so the outbox row holds no personal data. */
    'mail.confirm': async ({ requestId }) => {
      const now = deps.clock.now()
      const request = await findOptinRequest(deps.db, requestId)
      if (!request || request.status !== 'pending' || request.expires_at < now) return // nothing left to confirm
      const to = await requestRecipient(deps, request.contact_id)
      if (!to) return
      const noticeIds = Object.values(JSON.parse(request.notices) as Record<string, string>)
      const notices = await findNoticesByIds(deps.db, noticeIds)
      const token = signLinkToken(
        deps.keys,
        'confirm',
        { sub: request.id },
        request.expires_at,
        now,
      )
      const confirmUrl = `${deps.config.publicUrl}/c/${token}`
      const mail = renderEmail('confirm', request.locale, {
        org: deps.config.org.name,
        confirmUrl,
        purposes: notices.map((n) => ({ title: n.title })),
        expiresDays: Math.max(1, Math.round((request.expires_at - now) / 86_400_000)),
      })
      // MAIL_TRANSPORT=mautic sends its own template instead, with the link as a token (README, "Connecting Mautic", 6).
      const template = { name: 'confirm' as const, tokens: { consent_confirm_url: confirmUrl } }
      await deps.mail.send({ from: deps.config.mail.from, to, ...mail, template })
    },
  }
}
