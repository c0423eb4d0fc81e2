/** @module Renders a page with the shared envelope (locale, site, language switch). */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { isLocale, pickLocale, t, type Locale } from './i18n.ts'
import { renderPage, type SiteInfo } from './views.ts'

export function pageLocale(c: Context, contactLocale?: string | null): Locale {
  const explicit = c.req.query('lang')
  // Headers are read only when needed: on Node, the first read builds a Headers object.
  if (isLocale(explicit) || isLocale(contactLocale))
    return pickLocale({ explicit, contact: contactLocale })
  return pickLocale({ acceptLanguage: c.req.header('accept-language') })
}

/** The same URL with `lang` set to the other locale, for the header's language switch. */
export function switchUrl(c: Context, to: Locale): string {
  const url = new URL(c.req.url)
  url.searchParams.set('lang', to)
  return `${url.pathname}${url.search}`
}

export function page<D>(
  c: Context,
  site: SiteInfo,
  view: string,
  opts: {
    locale: Locale
    titleKey: string
    data: D
    status?: ContentfulStatusCode
    params?: Record<string, unknown>
  },
) {
  const other: Locale = opts.locale === 'fr' ? 'en' : 'fr'
  const html = renderPage(view, {
    locale: opts.locale,
    title: t(opts.locale, opts.titleKey, opts.params),
    site,
    switchLocale: other,
    switchUrl: switchUrl(c, other),
    data: opts.data,
  })
  return c.html(html, opts.status ?? 200)
}
