/**
 * @module GET /api/v1/openapi.json: the OpenAPI 3.1 description of /api/v1, generated from the routes
 * themselves (each declares its summary, scope and schemas with `describeRoute`; request bodies come
 * from the same valibot schema that checks them). Built once, on first request.
 */
import type { Hono } from 'hono'
import { Hono as Router } from 'hono'
import { generateSpecs } from 'hono-openapi'
import { API_KEY_SCOPES } from '../../domain/platform/api-keys.ts'

export function openApiRoutes(api: Hono, publicUrl: string) {
  let doc: Promise<string> | undefined
  const build = async () =>
    JSON.stringify(
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
    )
  return new Router().get('/', async (c) => {
    doc ??= build()
    doc.catch(() => (doc = undefined)) // a failure is retried on the next request
    c.header('Cache-Control', 'public, max-age=300')
    return c.body(await doc, 200, { 'Content-Type': 'application/json; charset=utf-8' })
  })
}
