/** @module GET /healthz for probes: 200 when the database answers, 503 when it does not. */
import { Hono } from 'hono'
import type { Deps } from '../deps.ts'
import { checkDatabase } from '../domain/platform/health.ts'

export function healthRoutes(deps: Deps) {
  return new Hono().get('/', async (c) => {
    try {
      await checkDatabase(deps)
      return c.json({ status: 'ok' })
    } catch (err) {
      deps.logger.log('error', 'health check: database unavailable', {
        requestId: c.get('requestId'),
        err,
      })
      return c.json(
        {
          status: 'unavailable',
          error: { code: 'database_unavailable', message: 'The database does not answer' },
        },
        503,
      )
    }
  })
}
