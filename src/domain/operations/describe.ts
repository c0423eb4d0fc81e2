/**
 * @module A finding in words, French or English, for the alert mail and the console: its kind, its
 * severity, and one line from its details (src/locales/operations.*.json, `ops.finding.*`). Details
 * hold ids, counts and dates only, never personal data.
 */
import { t, type Locale } from '../../lib/i18n.ts'
import type { FindingView } from '../platform/findings.ts'

const when = (locale: Locale, value: unknown) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value))
    ? `${new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
        dateStyle: 'medium',
        timeStyle: 'short',
        timeZone: 'UTC',
      }).format(new Date(value))} UTC`
    : t(locale, 'ops.never')

/** The reasons of a count map, as "withdrawn × 3, no_consent × 1". */
const counts = (value: unknown) =>
  value && typeof value === 'object'
    ? Object.entries(value as Record<string, number>)
        .map(([k, n]) => `${k} × ${n}`)
        .join(', ')
    : ''

export function describeFinding(locale: Locale, f: FindingView) {
  const d = f.details
  const params: Record<string, unknown> = {
    ...Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v ?? '—'])),
    subject: f.subject ?? '',
    purpose: f.purpose_key ?? (d.purpose as string | undefined) ?? '—',
    mautic_id: f.mautic_id ?? '—',
    contact_id: f.contact_id ?? '—',
    due: when(locale, d.due_at),
    received: when(locale, d.last_received_at),
    last: when(locale, d.last_taken_at),
    grace: when(locale, d.grace_until),
    oldestAt: when(locale, d.oldest),
    reasonList: counts(d.reasons),
    kindList: counts(d.kinds),
    problems: Array.isArray(d.problems) ? (d.problems as string[]).slice(0, 3).join('; ') : '',
  }
  // Never happened: its own sentence, not "since never".
  const never =
    (f.kind === 'backup_stale' && !d.last_taken_at) ||
    (f.kind === 'webhook_silent' && !d.last_received_at)
  return {
    kindLabel: t(locale, `ops.finding.kind.${f.kind}`),
    severityLabel: t(locale, `ops.severity.${f.severity}`),
    summary: t(locale, `ops.finding.summary.${f.kind}${never ? '_never' : ''}`, params),
    opened: when(locale, f.opened_at),
    closed: f.closed_at ? when(locale, f.closed_at) : null,
  }
}
