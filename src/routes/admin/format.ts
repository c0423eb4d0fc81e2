/**
 * @module How the console's screens write times, durations, counts and codes, in French and English
 * (times in UTC, said so). One place, so every screen reads the same.
 */
import { t, type Locale } from '../../lib/i18n.ts'

const tag = (locale: Locale) => (locale === 'fr' ? 'fr-FR' : 'en-GB')

/**
 * Formatters made once per language: `toLocaleString` builds a new one at every call, which a page
 * of a few hundred figures feels.
 */
const formats = (locale: Locale) => ({
  dateTime: new Intl.DateTimeFormat(tag(locale), {
    timeZone: 'UTC',
    dateStyle: 'short',
    timeStyle: 'medium',
  }),
  date: new Intl.DateTimeFormat(tag(locale), { timeZone: 'UTC', dateStyle: 'short' }),
  count: new Intl.NumberFormat(tag(locale)),
  percent: new Intl.NumberFormat(tag(locale), { maximumFractionDigits: 1 }),
})
const FORMATS = { fr: formats('fr'), en: formats('en') }

/** A date and time in UTC, or a dash. */
export const when = (ms: number | null | undefined, locale: Locale) =>
  ms === null || ms === undefined ? '—' : FORMATS[locale].dateTime.format(ms) + ' UTC'

/** A date alone (UTC). */
export const day = (ms: number | null | undefined, locale: Locale) =>
  ms === null || ms === undefined ? '—' : FORMATS[locale].date.format(ms)

/** A count with the locale's digit grouping. */
export const count = (n: number, locale: Locale) => FORMATS[locale].count.format(n)

/** A share as a percentage with one decimal. */
export const percent = (fraction: number, locale: Locale) =>
  FORMATS[locale].percent.format(fraction * 100) + ' %'

/** A duration in the largest unit that keeps it readable: seconds, minutes, hours, days. */
export function duration(ms: number, locale: Locale): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return t(locale, 'admin.unit.seconds', { n: s })
  const m = Math.round(s / 60)
  if (m < 60) return t(locale, 'admin.unit.minutes', { n: m })
  const h = Math.round(m / 60)
  if (h < 48) return t(locale, 'admin.unit.hours', { n: h })
  return t(locale, 'admin.unit.days', { n: Math.round(h / 24) })
}

/** A code's label when the locale files have one (`admin.code.<group>.<code>`), else the code itself. */
export function label(locale: Locale, group: string, code: string): string {
  const key = `admin.code.${group}.${code}`
  const text = t(locale, key)
  return text === key ? code : text
}
