/**
 * @module /api/v1/admin: what staff (and the console) do, each operation declaring the permission it
 * needs (auth.ts, guard.ts; src/domain/admin/permissions.ts) and its schemas for the OpenAPI document,
 * which takes them from the routes like every /api/v1 route.
 */
import { Hono } from 'hono'
import type { Deps } from '../../../deps.ts'
import { accountOperations } from './accounts.ts'
import { complianceRoutes } from './compliance.ts'
import { consoleOperations } from './console.ts'
import { incidentRoutes } from './incidents.ts'
import { monitoringRoutes } from './monitoring.ts'
import { operations } from './operations.ts'
import { processorRoutes } from './processors.ts'
import { proofBundleRoutes } from './proof-bundles.ts'
import { recipientRoutes } from './recipients.ts'
import { retentionApiRoutes } from './retention.ts'

export { ADMIN_API_OPERATIONS } from './auth.ts'

export function adminApiRoutes(deps: Deps) {
  const app = new Hono()
  accountOperations(deps, app)
  operations(deps, app)
  consoleOperations(deps, app)
  return app
    .route('/compliance', complianceRoutes(deps))
    .route('/processors', processorRoutes(deps))
    .route('/', recipientRoutes(deps))
    .route('/proof-bundles', proofBundleRoutes(deps))
    .route('/incidents', incidentRoutes(deps))
    .route('/retention', retentionApiRoutes(deps))
    .route('/', monitoringRoutes(deps))
}
