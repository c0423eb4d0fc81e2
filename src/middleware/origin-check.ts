/**
 * @module CSRF protection for every page: a state-changing request must come from our own origin,
 * whatever its content type (hono's csrf checks form content types only, so a JSON POST from another
 * site got through and was read as an empty form). Allowed: `Sec-Fetch-Site: same-origin`, or an
 * `Origin` that is PUBLIC_URL's or the request's own. Exempt: /c/ and /u/ (the signed token in the
 * URL authorises them, and mail providers' RFC 8058 one-click POSTs carry no Origin), and /api, /hooks
 * (no cookies; API keys or signatures authorise them).
 */
import type { MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'

const EXEMPT = /^\/(?:c|u|api|hooks)(?:\/|$)/
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS'])

export function originCheck(publicUrl: string): MiddlewareHandler {
  const publicOrigin = new URL(publicUrl).origin
  // Not async: a safe request (every page view) goes on without a promise of its own.
  return function originCheck(c, next) {
    if (SAFE.has(c.req.method) || EXEMPT.test(c.req.path)) return next()
    const origin = c.req.header('origin')
    const sameOrigin =
      c.req.header('sec-fetch-site') === 'same-origin' ||
      (origin !== undefined && (origin === publicOrigin || origin === new URL(c.req.url).origin))
    if (!sameOrigin) throw new HTTPException(403, { message: 'Forbidden' })
    return next()
  }
}
