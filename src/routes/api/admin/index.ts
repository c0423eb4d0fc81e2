/**
 * @module /api/v1/admin: the admin API (valibot schemas, hono-openapi descriptions), in its own files
 * so that the OpenAPI document takes its paths from `adminOpenApiPaths` (src/routes/api/openapi.ts).
 */
import { Hono } from 'hono'
import { generateSpecs } from 'hono-openapi'
import type { Deps } from '../../../deps.ts'
import { accountOperations } from './accounts.ts'
import { operations } from './operations.ts'

export { ADMIN_API_OPERATIONS } from './auth.ts'

export function adminApiRoutes(deps: Deps) {
  const app = new Hono()
  accountOperations(deps, app)
  operations(deps, app)
  return app
}

/** The admin API's OpenAPI paths, each under /admin (relative to the /api/v1 server). */
export async function adminOpenApiPaths(deps: Deps): Promise<Record<string, unknown>> {
  const specs = await generateSpecs(adminApiRoutes(deps), {
    documentation: { info: { title: 'admin', version: '1' } },
  })
  return Object.fromEntries(
    Object.entries(specs.paths).map(([path, item]) => [`/admin${path}`, item]),
  )
}
