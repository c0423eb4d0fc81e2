/**
 * @module What every /me page shares: the access token check (forged, expired, or the contact erased
 * since: a clear page pointing to /privacy for a new link), dates in the reader's language, and no
 * caching anywhere (these pages hold personal data).
 */
import type { Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { readAccessToken } from '../../domain/rights/access.ts'
import { findContact, type ContactRow } from '../../domain/platform/contacts.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { page, pageLocale } from '../../lib/pages.ts'
import type { SiteInfo } from '../../lib/views.ts'

export interface AccessContext {
  contact: ContactRow
  /** The access request the link was mailed for (completed when the page opens). */
  requestId: string
  token: string
  base: string
}

/** The page for a link that opens nothing (any more), with the way to get a new one. */
export function accessInvalidPage(
  c: Context,
  site: SiteInfo,
  reason: 'invalid' | 'expired' | 'erased',
  contactLocale?: string | null,
) {
  const locale = pageLocale(c, contactLocale)
  return page(c, site, 'public/access-invalid', {
    locale,
    titleKey: `me.${reason}.title`,
    status: reason === 'invalid' ? 404 : 410,
    data: { bodyKey: `me.${reason}.body`, privacyUrl: `/privacy?lang=${locale}` },
  })
}

/** The contact an access token opens, or the page that says why it opens nothing. */
export async function withAccess(
  deps: Deps,
  site: SiteInfo,
  c: Context,
): Promise<AccessContext | Response> {
  const token = c.req.param('token') ?? ''
  const read = await readAccessToken(deps, token)
  if (read.status !== 'valid') return accessInvalidPage(c, site, read.status)
  const contact = await findContact(deps, read.contactId)
  if (!contact) return accessInvalidPage(c, site, 'invalid')
  if (contact.status !== 'active') return accessInvalidPage(c, site, 'erased')
  return { contact, requestId: read.requestId, token, base: `/me/${token}` }
}

/** A parsed form body (`c.req.parseBody()`). */
export type Form = Record<string, string | File>

/** A text field of the form, '' when absent (or a file). */
export const formString = (form: Form, name: string): string =>
  typeof form[name] === 'string' ? form[name] : ''

/** The language of the page a form was sent from (its hidden `lang`), else the contact's. */
export const formLocale = (c: Context, access: AccessContext, form: Form): Locale =>
  pageLocale(c, formString(form, 'lang') || access.contact.locale)

const formats = new Map<Locale, Intl.DateTimeFormat>()

/** A date as people read it, in UTC (the time zone the records are kept in). */
export function formatDate(locale: Locale, value: number | string | null): string | null {
  if (value === null) return null
  let f = formats.get(locale)
  if (!f)
    formats.set(
      locale,
      (f = new Intl.DateTimeFormat(locale === 'fr' ? 'fr-FR' : 'en-GB', {
        dateStyle: 'long',
        timeStyle: 'long',
        timeZone: 'UTC',
      })),
    )
  return f.format(new Date(value))
}

/** Evidence as labelled lines (IP address, browser…), for the history; unknown keys show as they are. */
export function evidenceLines(locale: Locale, evidence: Record<string, unknown> | null) {
  return Object.entries(evidence ?? {}).map(([name, v]) => {
    const text = t(locale, `me.evidence.${name}`)
    const value =
      typeof v === 'string'
        ? v
        : typeof v === 'number' && name.endsWith('_at') // epoch milliseconds
          ? formatDate(locale, v)
          : JSON.stringify(v)
    return { key: text === `me.evidence.${name}` ? name : text, value }
  })
}
