/**
 * @module Strict security headers on every response. Set before the handler runs (not after, as
 * hono/secure-headers does), so they travel in the Response's init: rewriting a finished Response's
 * headers costs more than the rest of a /healthz request on Node.
 */
import type { MiddlewareHandler } from 'hono'

export interface SecurityHeadersOptions {
  /** Extra image origin (the organisation's logo); pages load nothing else from other hosts. */
  imageOrigin?: string
  /** Send HSTS: only when the public URL is https. */
  hsts: boolean
}

export function securityHeaders(opts: SecurityHeadersOptions): MiddlewareHandler {
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    `img-src 'self'${opts.imageOrigin ? ` ${opts.imageOrigin}` : ''}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
  const headers: [string, string][] = [
    ['Content-Security-Policy', csp],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    // Tokens live in our URLs: never leak them to another site through Referer.
    ['Referrer-Policy', 'no-referrer'],
    ['Cross-Origin-Opener-Policy', 'same-origin'],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Permissions-Policy', 'camera=(), microphone=(), geolocation=(), interest-cohort=()'],
    ...(opts.hsts
      ? [['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as [string, string]]
      : []),
  ]
  return async function securityHeaders(c, next) {
    for (const [name, value] of headers) c.header(name, value)
    await next()
  }
}
