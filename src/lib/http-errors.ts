/** @module One error shape per audience: JSON under /api and /hooks, a localized page everywhere else. */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { t, type Locale } from './i18n.ts'
import { page, pageLocale } from './pages.ts'
import type { SiteInfo } from './views.ts'

export const isMachinePath = (path: string) =>
  path === '/api' || path.startsWith('/api/') || path === '/hooks' || path.startsWith('/hooks/')

/** `{"error":{"code","message"}}`, the shape every /api and /hooks error has. */
export function jsonError(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status)
}

/** Renders the generic message page in the visitor's language. */
export function messagePage(
  c: Context,
  site: SiteInfo,
  status: ContentfulStatusCode,
  titleKey: string,
  bodyKey: string,
  opts: { locale?: Locale; reference?: string; params?: Record<string, unknown> } = {},
) {
  const locale = opts.locale ?? pageLocale(c)
  return page(c, site, 'message', {
    locale,
    titleKey,
    params: opts.params,
    status,
    data: { body: t(locale, bodyKey, opts.params), reference: opts.reference },
  })
}

const PAGE_KEYS = {
  bad_request: 'error.badRequest',
  forbidden: 'error.forbidden',
  not_found: 'error.notFound',
  payload_too_large: 'error.tooLarge',
  internal_error: 'error.server',
} as const

/** Errors by audience: JSON for machines, a page for people. */
export function errorResponse(
  c: Context,
  site: SiteInfo,
  status: ContentfulStatusCode,
  code: keyof typeof PAGE_KEYS,
  message: string,
) {
  if (isMachinePath(c.req.path)) return jsonError(c, status, code, message)
  const keys = PAGE_KEYS[code]
  const reference = code === 'internal_error' ? c.get('requestId') : undefined
  return messagePage(c, site, status, `${keys}.title`, `${keys}.body`, { reference })
}
