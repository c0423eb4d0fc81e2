/**
 * @module The app a runtime serves while its configuration is wrong (the Workers build parses it per
 * environment: src/runtime/worker/deps.ts), instead of a 500 on every route: `/healthz` answers 503
 * with the problems (the messages of src/config.ts, which never hold a secret value), the API and
 * hooks a 503 JSON error, and every page a plain "service unavailable" in the visitor's language.
 */
import { Hono } from 'hono'
import { requestId } from 'hono/request-id'
import { isMachinePath, jsonError, messagePage } from '../lib/http-errors.ts'
import type { SiteInfo } from '../lib/views.ts'
import { securityHeaders } from '../middleware/security-headers.ts'

const SITE: SiteInfo = { name: 'Consent Gateway' }

export function configurationErrorApp(problems: readonly string[]) {
  return new Hono()
    .use(requestId())
    .use(securityHeaders({ hsts: false }))
    .get('/healthz', (c) =>
      c.json(
        {
          status: 'unavailable',
          error: {
            code: 'configuration_error',
            message: 'The gateway is not configured correctly',
            problems,
          },
        },
        503,
      ),
    )
    .all('*', (c) => {
      c.header('Retry-After', '300')
      if (isMachinePath(c.req.path))
        return jsonError(
          c,
          503,
          'configuration_error',
          'The gateway is not configured correctly: its operator can see why at /healthz',
        )
      return messagePage(c, SITE, 503, 'error.unavailable.title', 'error.unavailable.body')
    })
}
