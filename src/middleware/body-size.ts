/**
 * @module Body size limit. A declared Content-Length is checked as it stands (the HTTP parser on Node and
 * the Workers runtime never deliver more bytes than declared); only a chunked body, with no length,
 * goes through hono's bodyLimit, which re-wraps the stream to count it — costing more than the rest of a
 * small API request on Node, so it is kept for the case that needs it.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'

export function bodySize(
  maxSize: number,
  onError: (c: Context) => Response | Promise<Response>,
): MiddlewareHandler {
  const streaming = bodyLimit({ maxSize, onError })
  // Not async: a declared length that fits goes on without a promise of its own.
  return function bodySize(c, next) {
    const declared = c.req.header('content-length')
    if (declared !== undefined && /^\d+$/.test(declared)) {
      if (Number(declared) > maxSize) return Promise.resolve(onError(c))
      return next()
    }
    return streaming(c, next)
  }
}
