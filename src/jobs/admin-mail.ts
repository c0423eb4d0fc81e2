/**
 * @module The staff invitation mail (`mail.admin_invite`): rendered at delivery in the invited
 * person's language, with the one-time set-up link decrypted from the outbox payload. An invitation
 * replaced or used meanwhile is not sent.
 */
import type { Deps } from '../deps.ts'
import {
  adminEmail,
  findAdmin,
  INVITE_LINK_TTL_MS,
  openInviteToken,
  setupUrl,
} from '../domain/admin/accounts.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { renderDataRightsEmail } from './data-rights-mail.ts'

export function adminOutboxHandlers(deps: Deps): Pick<OutboxHandlers, 'mail.admin_invite'> {
  return {
    'mail.admin_invite': async ({ userId, linkId, tokenEnc }) => {
      const user = await findAdmin(deps, userId)
      if (!user || user.status !== 'invited') return
      const token = await openInviteToken(deps, linkId, tokenEnc)
      const mail = renderDataRightsEmail('admin-invite', user.locale, {
        org: deps.config.org.name,
        url: setupUrl(deps, token),
        role: user.role,
        hours: Math.round(INVITE_LINK_TTL_MS / 3_600_000),
      })
      await deps.mail.send({
        from: deps.config.mail.from,
        to: await adminEmail(deps, user),
        ...mail,
      })
    },
  }
}
