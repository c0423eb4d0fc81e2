/**
 * @module CSRF protection for every form: a state-changing browser request must come from our own origin.
 * Exempt: /c/ and /u/ (the signed token in the URL authorises them, and mail providers' RFC 8058
 * one-click POSTs carry no Origin), and /api, /hooks (no cookies; API keys or signatures authorise them).
 */
import type { MiddlewareHandler } from 'hono'
import { csrf } from 'hono/csrf'

const EXEMPT = /^\/(?:c|u|api|hooks)(?:\/|$)/

export function originCheck(publicUrl: string): MiddlewareHandler {
  const publicOrigin = new URL(publicUrl).origin
  const check = csrf({
    origin: (origin, c) => origin === publicOrigin || origin === new URL(c.req.url).origin,
  })
  return async function originCheck(c, next) {
    if (EXEMPT.test(c.req.path)) return next()
    return check(c, next)
  }
}
