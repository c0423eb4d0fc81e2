/**
 * @module The banner of the console's layout while a personal data breach is open (GDPR Art. 33(1)):
 * each open incident with its 72-hour clock, on every screen, for the roles that may read the breach
 * register (context.ts's `adminPage` asks for it).
 */
import type { Deps } from '../../deps.ts'
import { listIncidents } from '../../domain/compliance/incidents.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { clockView } from './compliance-format.ts'

/** Each open incident with its clock; null when none is open. */
export async function incidentBanner(deps: Pick<Deps, 'db' | 'query' | 'clock'>, locale: Locale) {
  const open = await listIncidents(deps, { status: 'open' })
  if (open.length === 0) return null
  return {
    heading: t(locale, 'admin.compliance.banner.heading', { count: open.length }),
    incidents: open.map((i) => ({ id: i.id, title: i.title, clock: clockView(i.clock, locale) })),
  }
}
