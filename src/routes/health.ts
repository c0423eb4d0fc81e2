/** @module GET /healthz for probes: 200 when the database answers, 503 when it does not. */
import { Hono } from 'hono'
import { sql } from 'kysely'
import { compiler } from '../db/prepared.ts'
import type { Deps } from '../deps.ts'

// Compiled once: probes call this every few seconds, and building a Kysely query costs more than running it.
const PING = sql`SELECT 1 AS ok`.compile(compiler)

export function healthRoutes(deps: Deps) {
  return new Hono().get('/', async (c) => {
    try {
      await deps.queryOne(PING)
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
