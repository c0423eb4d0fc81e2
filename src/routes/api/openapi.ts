/**
 * @module GET /api/v1/openapi.json: the OpenAPI 3.1 description of /api/v1, generated from the routes
 * themselves (each declares its summary, scope and schemas with `describeRoute`; request bodies come
 * from the same valibot schema that checks them). Built once, on first request.
 */
import type { Hono } from 'hono'
import { Hono as Router } from 'hono'
import { generateSpecs } from 'hono-openapi'
import { API_KEY_SCOPES } from '../../domain/platform/api-keys.ts'
import { ADMIN_API_OPERATIONS } from './admin/auth.ts'

type Doc = Awaited<ReturnType<typeof generateSpecs>>

/**
 * The console's operations declare their permission once, to the gate that checks it
 * (src/routes/api/admin/auth.ts): the document states it beside each of them, with the key scope.
 */
function withAdminPermissions(doc: Doc): Doc {
  for (const op of ADMIN_API_OPERATIONS) {
    const entry = doc.paths?.[`/admin${op.path}`]?.[op.method.toLowerCase() as 'get']
    if (entry)
      Object.assign(entry, {
        security: [{ apiKey: ['admin'] }],
        'x-scope': 'admin',
        'x-permission': op.permission,
      })
  }
  return doc
}

export function openApiRoutes(api: Hono, publicUrl: string) {
  let doc: Promise<string> | undefined
  const build = async () =>
    JSON.stringify(
      withAdminPermissions(
        await generateSpecs(api, {
          documentation: {
            openapi: '3.1.0',
            info: {
              title: 'consent-gateway API',
              version: '1',
              description: `GDPR consent capture, proof and send gating. API keys carry scopes: ${API_KEY_SCOPES.join(', ')}.`,
            },
            servers: [{ url: `${publicUrl}/api/v1` }],
            components: {
              securitySchemes: {
                apiKey: {
                  type: 'http',
                  scheme: 'bearer',
                  description: 'An API key (consent-gateway api-key create)',
                },
              },
            },
          },
        }),
      ),
    )
  return new Router().get('/', async (c) => {
    doc ??= build()
    doc.catch(() => (doc = undefined)) // a failure is retried on the next request
    c.header('Cache-Control', 'public, max-age=300')
    return c.body(await doc, 200, { 'Content-Type': 'application/json; charset=utf-8' })
  })
}
