/** @module Renders a page with the shared envelope (locale, site, language switch). */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { toHex, utf8 } from './encoding.ts'
import { htmlBytes, type HtmlPart } from './html-bytes.ts'
import { isLocale, pickLocale, t, type Locale } from './i18n.ts'
import { randomBytes } from './random.ts'
import { escapeExpression, renderPage, type SiteInfo } from './views.ts'

export function pageLocale(c: Context, contactLocale?: string | null): Locale {
  const explicit = c.req.query('lang')
  // Headers are read only when needed: on Node, the first read builds a Headers object.
  if (isLocale(explicit) || isLocale(contactLocale))
    return pickLocale({ explicit, contact: contactLocale })
  return pickLocale({ acceptLanguage: c.req.header('accept-language') })
}

/** The same URL with `lang` set to the other locale, for the header's language switch. */
export function switchUrl(c: Context, to: Locale): string {
  const url = c.req.url
  // Most views carry no query: their path is the URL's after the origin (the URL is already in
  // canonical form, as both runtimes hand it over), and no URL object need be built.
  if (!url.includes('?') && !url.includes('#')) {
    const path = url.indexOf('/', url.indexOf('://') + 3)
    return `${path < 0 ? '/' : url.slice(path)}?lang=${to}`
  }
  const parsed = new URL(url)
  parsed.searchParams.set('lang', to)
  return `${parsed.pathname}${parsed.search}`
}

let madeHole: string | undefined

/**
 * Stands in a page's data for the one string that differs between requests of the same shape (a
 * link's token): random, so no content can hold it, and left as it is by escaping. Made on first
 * use, in a request: Workers refuse random values in a module's global scope (the Worker would not
 * start).
 */
export const hole = () => (madeHole ??= `\u0000${toHex(randomBytes(8))}\u0000`)

/**
 * Pages rendered with a hole(), per scope, by shape, as UTF-8 bytes between the holes (html-bytes.ts);
 * a scope's pages are emptied when too many.
 */
const shaped = new WeakMap<object, Map<string, Uint8Array[]>>()
const SHAPES_MAX = 256

/**
 * `page()` for pages that many requests render alike but for one string (the preference center:
 * the same purposes, the same ticks, another contact's token in the form's action): rendered once
 * per shape, `data` carrying hole() where that string goes, then `value` escaped into each hole, as
 * the template would have escaped it. `shape` names the page among those of `scope` (an object that
 * is replaced whenever what the data is made from changes, e.g. the cached purposes): with it, the
 * locale and the language switch, it must determine `data` entirely, so that two requests share a
 * page only when they would have rendered it alike.
 */
export function pageWithHole<D>(
  c: Context,
  site: SiteInfo,
  view: string,
  opts: { locale: Locale; titleKey: string; data: D; value: string; scope: object; shape: string },
) {
  const other: Locale = opts.locale === 'fr' ? 'en' : 'fr'
  const switchTo = switchUrl(c, other).split(opts.value).join(hole())
  let pages = shaped.get(opts.scope)
  if (!pages) shaped.set(opts.scope, (pages = new Map()))
  const key = `${view}\n${opts.titleKey}\n${opts.locale}\n${switchTo}\n${opts.shape}`
  let parts = pages.get(key)
  if (!parts) {
    const html = renderPage(view, {
      locale: opts.locale,
      title: t(opts.locale, opts.titleKey),
      site,
      switchLocale: other,
      switchUrl: switchTo,
      data: opts.data,
    })
    parts = html.split(hole()).map(utf8)
    if (pages.size >= SHAPES_MAX) pages.clear()
    pages.set(key, parts)
  }
  const value = escapeExpression(opts.value)
  const out: HtmlPart[] = [parts[0]!]
  for (let i = 1; i < parts.length; i++) out.push(value, parts[i]!)
  return htmlBytes(c, out)
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
