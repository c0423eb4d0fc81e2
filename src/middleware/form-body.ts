/**
 * @module The body of a page's POST: a form, or nothing. A body that is no form (JSON, text) is refused
 * with 415 before the route sees it (read as a form it would be "nothing ticked", which on the
 * preference center withdraws everything), and a form that cannot be parsed (a malformed
 * multipart/form-data) with 400: each a page in the visitor's language, never a 500. The token links
 * /c/ and /u/ also take an empty body with no content type (mail clients' one-click POSTs).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { messagePage } from '../lib/http-errors.ts'
import type { SiteInfo } from '../lib/views.ts'

/** The pages that take forms. */
export const FORM_PATHS = /^\/(?:subscribe|c|u|p|privacy|me)(?:\/|$)/
const EMPTY_BODY_ALLOWED = /^\/(?:c|u)\//
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data'])

export function formBody(site: SiteInfo): MiddlewareHandler {
  const refuse = (c: Context, status: 400 | 415) =>
    status === 415
      ? messagePage(c, site, 415, 'error.notAForm.title', 'error.notAForm.body')
      : messagePage(c, site, 400, 'error.badForm.title', 'error.badForm.body')
  const check: MiddlewareHandler = async (c, next) => {
    const type = c.req.header('content-type')?.split(';')[0]!.trim().toLowerCase()
    if (!type) {
      if (EMPTY_BODY_ALLOWED.test(c.req.path) && (await c.req.arrayBuffer()).byteLength === 0)
        return next()
      return refuse(c, 415)
    }
    if (!FORM_TYPES.has(type)) return refuse(c, 415)
    try {
      await c.req.parseBody()
    } catch {
      return refuse(c, 400)
    }
    return next()
  }
  // Not async: what is not a form post (every page view) goes on without a promise of its own.
  return function formBody(c, next) {
    if (c.req.method !== 'POST' || !FORM_PATHS.test(c.req.path)) return next()
    return check(c, next)
  }
}
