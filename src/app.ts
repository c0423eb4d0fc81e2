/**
 * @module createApp(deps): the whole gateway as one Hono app, free of runtime imports. src/node.ts and
 * src/worker.ts only build `deps` and hand requests to it.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { requestId } from 'hono/request-id'
import type { Deps, Deferrer } from './deps.ts'
import { scheduleCounterFlush } from './domain/platform/counters.ts'
import { errorResponse } from './lib/http-errors.ts'
import { siteInfo } from './lib/site.ts'
import { accessLog } from './middleware/access-log.ts'
import { bodySize } from './middleware/body-size.ts'
import { formBody } from './middleware/form-body.ts'
import { inSequence } from './middleware/in-sequence.ts'
import { originCheck } from './middleware/origin-check.ts'
import { securityHeaders, type SecurityHeadersOptions } from './middleware/security-headers.ts'
import { adminRoutes } from './routes/admin/index.ts'
import { apiRoutes } from './routes/api/index.ts'
import { healthRoutes } from './routes/health.ts'
import { metricsRoutes } from './routes/metrics.ts'
import { hookRoutes } from './routes/hooks/index.ts'
import { oversizedMauticBatch } from './routes/hooks/mautic.ts'
import { confirmRoutes } from './routes/public/confirm.ts'
import { meRoutes } from './routes/public/me.ts'
import { preferenceRoutes } from './routes/public/preferences.ts'
import { privacyRoutes } from './routes/public/privacy.ts'
import { reconsentRoutes } from './routes/public/reconsent.ts'
import { subscribeRoutes } from './routes/public/subscribe.ts'
import { unsubscribeRoutes } from './routes/public/unsubscribe.ts'
import { wellKnownRoutes } from './routes/well-known.ts'
import { siteRoutes } from './routes/site.ts'

/** Pages, forms and API calls. */
export const BODY_LIMIT = 1024 * 1024
/** Mautic's queue mode batches ten full e-mails into one webhook: at least 5 MB must pass (docs/mautic.md §1.2). */
export const HOOK_BODY_LIMIT = 8 * 1024 * 1024

declare module 'hono' {
  interface ContextVariableMap {
    /** Set by a handler whose commit wrote outbox rows: delivery starts right after the response. */
    outboxPending?: boolean
    /** Set by a handler that counted in memory (src/domain/platform/counters.ts): written soon after. */
    countersPending?: boolean
  }
}

/**
 * What a runtime's listener already does for every request (src/runtime/node/edge.ts): the static
 * security headers, the request id and the access log. Without one, the app does them itself.
 */
export interface AppEdge {
  /** The id the listener gave this request. */
  requestId(c: Context): string | undefined
  /**
   * The listener writes an HtmlParts body part by part (src/lib/html-bytes.ts); this is how it
   * measures a text part's UTF-8 length.
   */
  textBytes?: (text: string) => number
  /**
   * Requests never carry an ExecutionContext (Node): the app does not ask Hono for one, whose getter
   * throws there, an Error and its stack trace on every request that counted a refusal.
   */
  noExecutionContext?: boolean
}

export interface AppOptions {
  edge?: AppEdge
}

export function createApp(deps: Deps, options: AppOptions = {}) {
  const app = new Hono()
  const site = siteInfo(deps.config)

  const edge = options.edge
  if (edge) {
    app.use((c, next) => {
      c.set('requestId', edge.requestId(c) ?? crypto.randomUUID())
      if (edge.textBytes) c.set('edgeTextBytes', edge.textBytes)
      return next()
    })
  } else {
    app.use(requestId())
    app.use(accessLog(deps.logger))
    app.use(securityHeaders(securityHeaderOptions(deps)))
  }
  const tooLarge = (c: Context) =>
    errorResponse(c, site, 413, 'payload_too_large', 'The request body is too large')
  const pageLimit = bodySize(BODY_LIMIT, tooLarge)
  const hookLimit = bodySize(HOOK_BODY_LIMIT, async (c) => {
    if (c.req.path === '/hooks/mautic') await oversizedMauticBatch(deps, c, HOOK_BODY_LIMIT)
    return tooLarge(c)
  })
  const bodyLimit: MiddlewareHandler = (c, next) =>
    (c.req.path.startsWith('/hooks/') ? hookLimit : pageLimit)(c, next)
  const deferrer = edge?.noExecutionContext ? () => undefined : executionContext
  const wakeOutbox: MiddlewareHandler = (c, next) =>
    next().then(() => {
      if (c.get('outboxPending')) deps.wakeOutbox(() => deferrer(c))
      if (c.get('countersPending')) scheduleCounterFlush(deps, () => deferrer(c))
    })
  const withBody = inSequence(
    bodyLimit,
    originCheck(deps.config.publicUrl),
    formBody(site),
    wakeOutbox,
  )
  app.use(function requestChecks(c, next) {
    // GET and HEAD carry no body and change nothing (mail scanners follow links): no size to check
    // (which also spares Node building a full Request object), no origin, no form, nothing to
    // deliver or count after them.
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    return withBody(c, next)
  })

  app.route('/healthz', healthRoutes(deps))
  app.route('/metrics', metricsRoutes(deps))
  app.route('/api/v1', apiRoutes(deps))
  app.route('/hooks', hookRoutes(deps))
  app.route('/.well-known', wellKnownRoutes(deps))
  app.route('/subscribe', subscribeRoutes(deps))
  app.route('/c', confirmRoutes(deps))
  app.route('/u', unsubscribeRoutes(deps))
  app.route('/p', preferenceRoutes(deps))
  app.route('/r', reconsentRoutes(deps))
  app.route('/privacy', privacyRoutes(deps))
  app.route('/me', meRoutes(deps))
  app.route('/admin', adminRoutes(deps))
  app.route('/', siteRoutes(deps))

  app.notFound((c) => errorResponse(c, site, 404, 'not_found', 'No such route'))
  app.onError((err, c) => {
    // Expected refusals (the origin check's 403, a malformed request's 400): shaped for their audience.
    if (err instanceof HTTPException && err.status < 500) {
      const code =
        err.status === 403 ? 'forbidden' : err.status === 413 ? 'payload_too_large' : 'bad_request'
      return errorResponse(
        c,
        site,
        err.status,
        code,
        err.status === 403 ? 'Forbidden' : err.message || 'Bad request',
      )
    }
    deps.logger.log('error', 'unhandled error', {
      requestId: c.get('requestId'),
      method: c.req.method,
      err,
      stack: err instanceof Error ? err.stack : undefined,
    })
    return errorResponse(
      c,
      site,
      500,
      'internal_error',
      'Something went wrong; nothing was changed',
    )
  })
  return app
}

export type App = ReturnType<typeof createApp>

export function securityHeaderOptions(deps: Pick<Deps, 'config'>): SecurityHeadersOptions {
  return {
    imageOrigin: deps.config.org.logoUrl ? new URL(deps.config.org.logoUrl).origin : undefined,
    hsts: deps.config.publicUrl.startsWith('https://'),
  }
}

function executionContext(c: { executionCtx: Deferrer }): Deferrer | undefined {
  try {
    return c.executionCtx // throws where the runtime has none (Node)
  } catch {
    return undefined
  }
}
