/**
 * @module A test mail through MAIL_TRANSPORT, sent now (not through the outbox: its point is to see the
 * transport answer), in both languages, audited with its outcome: the console's "send a test mail"
 * and POST /api/v1/admin/mail/test.
 */
import type { Deps } from '../../deps.ts'
import type { Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'

export type TestMailResult =
  | { ok: true; transport: string; messageId: string }
  | { ok: false; transport: string; error: string }

export async function sendTestMail(
  deps: Deps,
  to: string,
  by: Actor & { reason?: string },
): Promise<TestMailResult> {
  const org = deps.config.org.name
  const transport = deps.mail.name
  try {
    const sent = await deps.mail.send({
      from: deps.config.mail.from,
      to,
      subject: `${org}: test e-mail / e-mail de test`,
      text: `This test e-mail from the ${org} consent gateway went through MAIL_TRANSPORT=${transport}.\nCet e-mail de test de la passerelle de consentement de ${org} est passé par MAIL_TRANSPORT=${transport}.\n`,
      html: `<p>This test e-mail from the consent gateway went through the configured transport.</p><p>Cet e-mail de test de la passerelle de consentement est passé par le transport configuré.</p>`,
    })
    await recordAudit(deps, {
      ...by,
      action: 'mail.test',
      details: { transport, reason: by.reason },
    })
    return { ok: true, transport, messageId: sent.messageId }
  } catch (err) {
    await recordAudit(deps, {
      ...by,
      action: 'mail.test',
      outcome: 'failed',
      details: { transport, reason: by.reason },
    })
    return { ok: false, transport, error: String((err as Error)?.message ?? err).slice(0, 500) }
  }
}
