/**
 * @module GET /healthz for probes: 200 `{"status":"ok"}` when the database answers, 503 when it does
 * not. `?detail=1` (admin API key) adds what an operator needs to see at a glance: the Mautic webhook's
 * health (src/mautic/webhook-health.ts: unpublished, failing or stale), the mail transport and the
 * mirror mode; the bare probe stays as cheap as it was.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../deps.ts'
import { checkDatabase } from '../domain/platform/health.ts'
import { mirrorMode } from '../domain/platform/settings.ts'
import { apiKeyAuth } from '../middleware/api-key-auth.ts'
import { webhookHealth } from '../mautic/webhook-health.ts'

export function healthRoutes(deps: Deps) {
  const admin = apiKeyAuth(deps, 'admin')
  const detail = async (c: Context) => {
    const webhook = await webhookHealth(deps)
    const mode = await mirrorMode(deps)
    const degraded = !['ok', 'not_configured'].includes(webhook.state)
    return c.json({
      status: degraded ? 'degraded' : 'ok',
      database: 'ok',
      mail_transport: deps.config.mail.transport,
      mautic: deps.config.mautic
        ? { url: new URL(deps.config.mautic.url).origin, mirror_mode: mode }
        : null,
      mautic_webhook: webhook,
    })
  }
  return new Hono().get('/', async (c) => {
    try {
      await checkDatabase(deps)
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
    const wanted = c.req.query('detail')
    if (wanted === undefined || wanted === '0') return c.json({ status: 'ok' })
    let response: Response | undefined
    const refused = await admin(c, async () => {
      response = await detail(c)
    })
    return refused ?? response!
  })
}
