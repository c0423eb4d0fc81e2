/**
 * @module What the compliance screens share (README "Compliance"): their sub-navigation by permission,
 * form values read strictly, redirects that keep the page's language, and the audit entry every
 * action leaves (src/domain/admin/audit.ts; the compliance domain
 * records who acted on its own rows, never in the audit log, so the screens write that entry).
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Deps } from '../../deps.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { can, type Permission } from '../../domain/admin/permissions.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminPage } from './context.ts'

// Dates in UTC and the 72-hour clock in words (compliance-format.ts), for the screens' convenience.
export { clockView, day, when, type ClockView } from './compliance-format.ts'

/** The compliance screens, each shown in the sub-navigation to the roles that may open it. */
const SECTIONS: { href: string; key: string; permission: Permission }[] = [
  { href: '/admin/compliance', key: 'overview', permission: 'compliance.read' },
  { href: '/admin/compliance/fields', key: 'fields', permission: 'compliance.read' },
  { href: '/admin/compliance/risks', key: 'risks', permission: 'compliance.read' },
  { href: '/admin/compliance/record', key: 'record', permission: 'compliance.read' },
  { href: '/admin/compliance/processors', key: 'processors', permission: 'compliance.read' },
  { href: '/admin/compliance/incidents', key: 'incidents', permission: 'compliance.read' },
  { href: '/admin/compliance/tasks', key: 'tasks', permission: 'requests.manage' },
  { href: '/admin/compliance/bundles', key: 'bundles', permission: 'exports.personal' },
]

/** Whether the signed-in role holds `permission` (to show a form or a link only to those who may use it). */
export const may = (c: Context, permission: Permission) => {
  const s = c.get('admin')
  return !!s && can(s.user.role, permission)
}

/** A compliance screen: the admin layout, the sub-navigation, and `can` flags for its forms. */
export function compliancePage(
  deps: Deps,
  c: Context,
  view: string,
  opts: {
    titleKey: string
    params?: Record<string, unknown>
    status?: ContentfulStatusCode
    data: Record<string, unknown>
  },
) {
  const locale = adminLocale(c)
  const path = c.req.path.replace(/\/$/, '')
  const sections = SECTIONS.filter((s) => may(c, s.permission)).map((s) => ({
    href: s.href,
    label: t(locale, `admin.compliance.nav.${s.key}`),
    current:
      s.href === '/admin/compliance'
        ? path === s.href
        : path === s.href || path.startsWith(`${s.href}/`),
  }))
  c.header('Cache-Control', 'no-store')
  return adminPage(deps, c, `admin/compliance/${view}`, {
    titleKey: opts.titleKey,
    params: opts.params,
    status: opts.status,
    data: {
      sections,
      notice: null,
      error: null,
      can: {
        manage: may(c, 'compliance.manage'),
        personal: may(c, 'contacts.personal'),
        requests: may(c, 'requests.manage'),
        exports: may(c, 'exports.personal'),
        verify: may(c, 'ledger.verify'),
      },
      ...opts.data,
    },
  })
}

/** A path with the page's language kept, for redirects after a form. */
export const withLang = (c: Context, path: string, extra: Record<string, string> = {}) => {
  const q = new URLSearchParams({ ...extra, lang: adminLocale(c) })
  return `${path}?${q}`
}

/** Records an admin action in the audit log (who, from where, on what). */
export const audit = (
  deps: Deps,
  c: Context,
  action: string,
  target: string | null,
  details?: Record<string, unknown>,
) => recordAudit(deps, { ...actorOf(deps, c), action, target, details })

/** `YYYY-MM-DD` for a date input. */
export const dateInput = (value: string | null) => (value ? value.slice(0, 10) : '')

/** The form's values, strings only. */
export async function form(c: Context): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true })
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === 'string') out[k] = v
    else if (Array.isArray(v)) out[k] = v.filter((x): x is string => typeof x === 'string')
  }
  return out
}

/** One value of a form (the first when a name repeats), trimmed. */
export const one = (f: Record<string, string | string[]>, name: string): string => {
  const v = f[name]
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim()
}

/** Every value of a repeated name (checkboxes). */
export const many = (f: Record<string, string | string[]>, name: string): string[] => {
  const v = f[name]
  return v === undefined ? [] : Array.isArray(v) ? v : [v]
}

/** The values among `allowed`, in its order; null when one is not allowed. */
export function pick<T extends string>(values: string[], allowed: readonly T[]): T[] | null {
  if (values.some((v) => !(allowed as readonly string[]).includes(v))) return null
  return allowed.filter((a) => values.includes(a))
}

export const isOneOf = <T extends string>(v: string, allowed: readonly T[]): v is T =>
  (allowed as readonly string[]).includes(v)

/** `YYYY-MM-DD` (a date input) as epoch ms at 00:00 UTC; undefined when empty, NaN when invalid. */
export function parseDay(v: string): number | undefined {
  if (v === '') return undefined
  return /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : NaN
}

/** `YYYY-MM-DDTHH:MM[:SS]` (a datetime-local input, read as UTC); undefined when empty, NaN when invalid. */
export function parseUtcDateTime(v: string): number | undefined {
  if (v === '') return undefined
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(v)
  return m ? Date.parse(`${m[1]}T${m[2]}${m[3] ?? ':00'}Z`) : NaN
}

/** A whole number within bounds; undefined when empty, null when not one. */
export function parseWhole(v: string, min: number, max: number): number | null | undefined {
  if (v === '') return undefined
  if (!/^\d{1,9}$/.test(v)) return null
  const n = Number(v)
  return n >= min && n <= max ? n : null
}

/** The label of a value (`prefix.value`), or a dash when there is none. */
export const labelOf = (locale: Locale, prefix: string, value: string | null | undefined) =>
  value === null || value === undefined || value === '' ? '—' : t(locale, `${prefix}.${value}`)
