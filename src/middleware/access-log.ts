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
    logRequest(logger, c.get('requestId'), c.req.method, c.req.path, c.res.status, now() - start)
  }
}

/** The line itself; the Node edge (src/runtime/node/edge.ts) writes it from the socket. */
export function logRequest(
  logger: Logger,
  requestId: string | undefined,
  method: string | undefined,
  path: string,
  status: number,
  ms: number,
): void {
  logger.log(status >= 500 ? 'error' : 'info', 'request', {
    requestId,
    method,
    path: redactPath(path),
    status,
    ms: Math.round(ms * 10) / 10,
  })
}
