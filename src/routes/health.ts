/** @module GET /healthz for probes: 200 when the database answers, 503 when it does not. */
import { Hono } from 'hono'
import { sql } from 'kysely'
import type { Deps } from '../deps.ts'

export function healthRoutes(deps: Deps) {
  return new Hono().get('/', async (c) => {
    c.header('Cache-Control', 'no-store')
    try {
      await sql`SELECT 1`.execute(deps.db)
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
