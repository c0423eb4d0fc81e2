/**
 * @module GET /metrics: the gateway's figures in the Prometheus text format
 * (src/domain/operations/metrics.ts), for an operator's scraper. Off unless METRICS=1 (404 then, as
 * for any unknown path); an API key with the `admin` scope otherwise (`Authorization: Bearer`, which
 * Prometheus sends with its `authorization` scrape setting). Never cached.
 */
import { Hono } from 'hono'
import type { Deps } from '../deps.ts'
import { metricsText } from '../domain/operations/metrics.ts'
import { apiKeyAuth } from '../middleware/api-key-auth.ts'

export function metricsRoutes(deps: Deps) {
  const app = new Hono()
  if (!deps.config.metrics) return app
  return app.get('/', apiKeyAuth(deps, 'admin'), async (c) => {
    const text = await metricsText(deps)
    c.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
    c.header('Cache-Control', 'no-store')
    return c.body(text)
  })
}
