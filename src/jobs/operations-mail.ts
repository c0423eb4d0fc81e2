/**
 * @module The outbox handlers of the operations: the re-consent mail (the new wording and the link, in
 * the notice's language: src/domain/consent/reconsent.ts), the alert mail (to ALERT_EMAIL, else
 * DPO_EMAIL, in DPO_LOCALE) and the alert webhook, signed with the Standard Webhooks scheme, the alert's
 * id as `webhook-id` on every attempt (src/domain/operations/alerts.ts). A webhook answered other than
 * 2xx throws, and the outbox retries it with backoff.
 */
import type { Deps } from '../deps.ts'
import { markReconsentSent, reconsentSubject, reconsentUrl } from '../domain/consent/reconsent.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { alertBody, alertFindings } from '../domain/operations/alerts.ts'
import { describeFinding } from '../domain/operations/describe.ts'
import { contactEmail, findContact } from '../domain/platform/contacts.ts'
import { preferencesUrl } from '../domain/sending/links.ts'
import { t, type Locale } from '../lib/i18n.ts'
import { signWebhook } from '../lib/standard-webhooks.ts'
import { renderView } from '../lib/views.ts'
import { unescapeText } from '../mail/render.ts'

const TIMEOUT_MS = 10_000

const day = (locale: Locale, ms: number) =>
  new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeZone: 'UTC',
  }).format(new Date(ms))

function render(view: string, locale: Locale, subjectKey: string, data: Record<string, unknown>) {
  const subject = t(locale, subjectKey, data).replace(/\s+/g, ' ').trim()
  const context = { locale, subject, data }
  return {
    subject,
    html: renderView(`email/${view}.html`, context),
    text: unescapeText(renderView(`email/${view}.text`, context)),
  }
}

export function operationsOutboxHandlers(
  deps: Deps,
  fetcher: typeof fetch = (input, init) => fetch(input, init),
): Pick<OutboxHandlers, 'mail.reconsent' | 'mail.alert' | 'alert.webhook'> {
  return {
    'mail.reconsent': async ({ noticeId, contactId }) => {
      const subject = await reconsentSubject(deps, noticeId, contactId)
      // Renewed, withdrawn, objected or erased since it was queued: nothing to ask any more.
      if (!subject || subject.state !== 'outdated') return
      const contact = await findContact(deps, contactId)
      const to = contact ? await contactEmail(deps, contact) : null
      if (!to) return
      const { campaign, notice } = subject
      const locale = campaign.locale
      const mail = render('reconsent', locale, 'mail.reconsent.subject', {
        org: deps.config.org.name,
        title: notice.title,
        text: notice.body,
        privacyUrl: notice.privacy_url || deps.config.org.privacyUrl || null,
        url: await reconsentUrl(deps, campaign, contactId),
        preferencesUrl: `${preferencesUrl(deps, contactId)}?lang=${locale}`,
        graceUntil: day(locale, campaign.grace_until),
        graceOver: campaign.grace_until <= deps.clock.now(),
      })
      await deps.mail.send({ from: deps.config.mail.from, to, ...mail })
      await markReconsentSent(deps, noticeId, contactId)
    },

    'mail.alert': async ({ findingIds }) => {
      const to = deps.config.operations.alertEmail
      if (!to) {
        deps.logger.log('error', 'alert not mailed: neither ALERT_EMAIL nor DPO_EMAIL is set', {
          findings: findingIds.length,
        })
        return
      }
      const locale = deps.config.operations.alertLocale
      const findings = await alertFindings(deps, findingIds)
      const open = findings.filter((f) => f.status === 'open')
      if (open.length === 0) return // every one closed since: nothing to say
      const mail = render('alert', locale, 'mail.alert.subject', {
        org: deps.config.org.name,
        count: open.length,
        consoleUrl: `${deps.config.publicUrl}/admin/operations/findings`,
        findings: open.map((f) => ({ id: f.id, ...describeFinding(locale, f) })),
      })
      await deps.mail.send({ from: deps.config.mail.from, to, ...mail })
    },

    'alert.webhook': async ({ alertId, findingIds, at }) => {
      const hook = deps.config.operations.alertWebhook
      if (!hook) return // unset since it was queued
      const findings = await alertFindings(deps, findingIds)
      const body = alertBody(
        alertId,
        at,
        findings,
        `${deps.config.publicUrl}/admin/operations/findings`,
      )
      const origin = new URL(hook.url).origin // for messages: never the path or a token in it
      let error: string | null = null
      try {
        const res = await fetcher(hook.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'consent-gateway',
            ...(await signWebhook(hook.secret, alertId, deps.clock.now(), body)),
          },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(TIMEOUT_MS),
        })
        await res.text().catch(() => '')
        if (res.status < 200 || res.status > 299) error = `${origin} answered ${res.status}`
      } catch (err) {
        error = `${origin} cannot be reached: ${(err as Error).message}`
      }
      if (error !== null) throw new Error(`alert webhook: ${error}`)
    },
  }
}
