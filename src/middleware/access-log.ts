/** @module One structured line per request, with its request id; tokenised paths are redacted. */
import type { MiddlewareHandler } from 'hono'
import { redactPath, type Logger } from '../lib/log.ts'

export function accessLog(
  logger: Logger,
  now: () => number = () => performance.now(),
): MiddlewareHandler {
  return async function accessLog(c, next) {
    const start = now()
    await next()
    logger.log(c.res.status >= 500 ? 'error' : 'info', 'request', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: redactPath(c.req.path),
      status: c.res.status,
      ms: Math.round((now() - start) * 10) / 10,
    })
  }
}
