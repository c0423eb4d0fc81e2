/** @module /hooks: calls from Mautic (webhooks and the campaign action), JSON answers only. */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { campaignRoutes } from './campaign.ts'
import { mauticWebhookRoutes } from './mautic.ts'

export function hookRoutes(deps: Deps) {
  return new Hono()
    .route('/mautic/campaign', campaignRoutes(deps))
    .route('/mautic', mauticWebhookRoutes(deps))
}
