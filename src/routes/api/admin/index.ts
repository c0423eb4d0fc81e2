/**
 * @module /api/v1/admin: the operations staff (and the console) use, each declaring the permission
 * it needs (guard.ts, src/domain/admin/permissions.ts).
 */
import { Hono } from 'hono'
import type { Deps } from '../../../deps.ts'
import { complianceRoutes } from './compliance.ts'
import { incidentRoutes } from './incidents.ts'
import { ledgerRoutes, proofBundleRoutes } from './proof-bundles.ts'
import { processorRoutes } from './processors.ts'
import { recipientRoutes } from './recipients.ts'

export function adminRoutes(deps: Deps) {
  return new Hono()
    .route('/compliance', complianceRoutes(deps))
    .route('/processors', processorRoutes(deps))
    .route('/', recipientRoutes(deps))
    .route('/proof-bundles', proofBundleRoutes(deps))
    .route('/ledger', ledgerRoutes(deps))
    .route('/incidents', incidentRoutes(deps))
}
