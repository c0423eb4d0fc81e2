/**
 * @module The outbox handler of `mail.incident_reminder`: the 72-hour clock of a personal data breach
 * (GDPR Art. 33(1)) reminds DPO_EMAIL at 48 and 66 hours, in DPO_LOCALE, while the authority has not
 * been notified. Without DPO_EMAIL the reminder is logged as an error instead (nowhere to send it).
 */
import type { Deps } from '../deps.ts'
import { HOUR_MS, NOTIFICATION_DEADLINE_MS, getIncident } from '../domain/compliance/incidents.ts'
import type { OutboxHandlers } from '../domain/platform/outbox-messages.ts'
import { t, type Locale } from '../lib/i18n.ts'
import { renderView } from '../lib/views.ts'
import { unescapeText } from '../mail/render.ts'

export interface IncidentReminderMail {
  org: string
  title: string
  id: string
  hours: number
  hoursLeft: number
  detectedAt: string
  deadline: string
}

const when = (locale: Locale, ms: number) =>
  `${new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(new Date(ms))} UTC`

export function renderIncidentReminder(locale: Locale, data: IncidentReminderMail) {
  const subject = t(locale, 'mail.incident.subject', { ...data })
    .replace(/\s+/g, ' ')
    .trim()
  const context = { locale, subject, data }
  return {
    subject,
    html: renderView('email/incident-reminder.html', context),
    text: unescapeText(renderView('email/incident-reminder.text', context)),
  }
}

export function complianceMailHandlers(deps: Deps): Pick<OutboxHandlers, 'mail.incident_reminder'> {
  return {
    'mail.incident_reminder': async ({ incidentId, hours }) => {
      const incident = await getIncident(deps, incidentId)
      // Notified, judged unlikely to harm, or closed since: the clock has stopped.
      if (!incident || incident.clock.stopped) return
      const dpo = deps.config.dpo
      if (!dpo) {
        deps.logger.log('error', 'breach reminder not sent: DPO_EMAIL is not set', {
          incidentId,
          hours,
          deadline: incident.clock.deadline,
        })
        return
      }
      const detected = Date.parse(incident.detected_at)
      const mail = renderIncidentReminder(dpo.locale, {
        org: deps.config.org.name,
        title: incident.title,
        id: incident.id,
        hours,
        hoursLeft: Math.max(
          0,
          Math.floor((detected + NOTIFICATION_DEADLINE_MS - deps.clock.now()) / HOUR_MS),
        ),
        detectedAt: when(dpo.locale, detected),
        deadline: when(dpo.locale, detected + NOTIFICATION_DEADLINE_MS),
      })
      await deps.mail.send({ from: deps.config.mail.from, to: dpo.email, ...mail })
    },
  }
}
