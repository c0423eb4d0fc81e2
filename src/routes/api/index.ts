/** @module /api/v1: the HTTP API for websites and tools (bearer API keys, JSON errors). */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { adminApiRoutes } from './admin/index.ts'
import { consentRoutes } from './consents.ts'
import { gateRoutes } from './gate.ts'
import { openApiRoutes } from './openapi.ts'
import { findingRoutes, outboxRoutes } from './outbox.ts'
import { purposeRoutes } from './purposes.ts'
import { sendRoutes } from './send.ts'
import { subscriptionRoutes } from './subscriptions.ts'

export function apiRoutes(deps: Deps) {
  const api = new Hono()
    .route('/subscriptions', subscriptionRoutes(deps))
    .route('/gate', gateRoutes(deps))
    .route('/send', sendRoutes(deps))
    .route('/contacts', consentRoutes(deps))
    .route('/purposes', purposeRoutes(deps))
    .route('/outbox', outboxRoutes(deps))
    .route('/findings', findingRoutes(deps))
    .route('/admin', adminApiRoutes(deps))
  return api.route('/openapi.json', openApiRoutes(api, deps.config.publicUrl))
}
