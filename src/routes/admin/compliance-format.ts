/**
 * @module How the compliance screens say dates and the 72-hour clock of a breach (GDPR Art. 33(1)) in
 * words, in French or English: every time in UTC, as the rest of the console shows them. No import of
 * the console's context, so the layout's banner (compliance-banner.ts) can use it too.
 */
import type { IncidentClock } from '../../domain/compliance/incidents.ts'
import { t, type Locale } from '../../lib/i18n.ts'

/** A date and time, in the page's language, in UTC (the console shows every time in UTC). */
export function when(value: string | number | null | undefined, locale: Locale): string {
  if (value === null || value === undefined) return '—'
  const ms = typeof value === 'number' ? value : Date.parse(value)
  return (
    new Date(ms).toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
      timeZone: 'UTC',
      dateStyle: 'medium',
      timeStyle: 'short',
    }) + ' UTC'
  )
}

/** A date only (contracts, reviews). */
export function day(value: string | number | null | undefined, locale: Locale): string {
  if (value === null || value === undefined) return '—'
  const ms = typeof value === 'number' ? value : Date.parse(value)
  return new Date(ms).toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: 'UTC',
    dateStyle: 'medium',
  })
}

export interface ClockView {
  /** running (under 48 h), warning (48 h and more), overdue (past 72 h), stopped. */
  state: 'running' | 'warning' | 'overdue' | 'stopped'
  /** What the clock says, in a sentence. */
  text: string
  deadline: string
}

const span = (ms: number, locale: Locale) => {
  const minutes = Math.floor(Math.abs(ms) / 60_000)
  return t(locale, 'admin.compliance.clock.span', {
    hours: Math.floor(minutes / 60),
    minutes: minutes % 60,
  })
}

/** The 72-hour clock of Art. 33(1) in words: shown on every incident screen and in the banner. */
export function clockView(clock: IncidentClock, locale: Locale): ClockView {
  const deadline = when(clock.deadline, locale)
  const hours = clock.hours_elapsed
  if (clock.stopped)
    return {
      state: 'stopped',
      deadline,
      text: t(locale, `admin.compliance.clock.stopped.${clock.stopped_by ?? 'closed'}`, {
        hours,
        deadline,
        late: clock.overdue ? t(locale, 'admin.compliance.clock.late') : '',
      }).trim(),
    }
  if (clock.overdue)
    return {
      state: 'overdue',
      deadline,
      text: t(locale, 'admin.compliance.clock.overdue', {
        hours,
        deadline,
        over: span(clock.remaining_ms, locale),
      }),
    }
  return {
    state: hours >= 48 ? 'warning' : 'running',
    deadline,
    text: t(locale, 'admin.compliance.clock.running', {
      hours,
      left: span(clock.remaining_ms, locale),
      deadline,
    }),
  }
}
