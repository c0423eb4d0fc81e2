/**
 * @module Strict security headers on every response, and `Cache-Control: no-store` unless a route says
 * otherwise (our pages and answers carry tokens and personal data: no shared cache may keep them).
 * `securityHeaderList` is the one list; the Node listener sends it from the socket (src/runtime/node/
 * edge.ts), and this middleware adds it inside the app on other runtimes and in `app.request` tests.
 */
import type { MiddlewareHandler } from 'hono'

export interface SecurityHeadersOptions {
  /** Extra image origin (the organisation's logo); pages load nothing else from other hosts. */
  imageOrigin?: string
  /** Send HSTS: only when the public URL is https. */
  hsts: boolean
}

export function securityHeaderList(opts: SecurityHeadersOptions): readonly [string, string][] {
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    `img-src 'self'${opts.imageOrigin ? ` ${opts.imageOrigin}` : ''}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
  return [
    ['Content-Security-Policy', csp],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    // Tokens live in our URLs: never leak them to another site through Referer.
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()'],
    // The default; the stylesheet, the OpenAPI document and the JWKS set their own.
    ['Cache-Control', 'no-store'],
    ...(opts.hsts
      ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as [string, string]]
      : []),
  ]
}

/** Adds each header the route did not set itself (a route's own Cache-Control wins). */
export function securityHeaders(opts: SecurityHeadersOptions): MiddlewareHandler {
  const headers = securityHeaderList(opts)
  return async function securityHeaders(c, next) {
    await next()
    const own = c.res.headers
    for (const [name, value] of headers) if (!own.has(name)) own.set(name, value)
  }
}
