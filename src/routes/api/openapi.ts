/** @module GET /api/v1/openapi.json: the OpenAPI 3.1 description of /api/v1 (kept beside the routes). */
import { Hono } from 'hono'
import { GATE_REASONS } from '../../domain/consent/gate-decision.ts'
import { API_KEY_SCOPES } from '../../domain/platform/api-keys.ts'

const error = { $ref: '#/components/schemas/Error' }
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((c) => [
      c,
      { description: `Error (${c})`, content: { 'application/json': { schema: error } } },
    ]),
  )
const json = (schema: object, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
})
const body = (schema: object) => ({ required: true, content: { 'application/json': { schema } } })
const scoped = (scope: string) => ({ security: [{ apiKey: [scope] }], 'x-scope': scope })

const contactRef = {
  oneOf: [
    {
      type: 'object',
      required: ['email'],
      properties: { email: { type: 'string', format: 'email' } },
      additionalProperties: false,
    },
    {
      type: 'object',
      required: ['mautic_id'],
      properties: { mautic_id: { type: ['string', 'integer'] } },
      additionalProperties: false,
    },
    {
      type: 'object',
      required: ['contact_id'],
      properties: { contact_id: { type: 'string' } },
      additionalProperties: false,
    },
  ],
}

export function openApiDocument(serverUrl: string) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'consent-gateway API',
      version: '1',
      description: `GDPR consent capture, proof and send gating. API keys carry scopes: ${API_KEY_SCOPES.join(', ')}.`,
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (consent-gateway api-key create)',
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: { code: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
    paths: {
      '/subscriptions': {
        post: {
          summary: 'Record consent for purposes; starts double opt-in where a purpose needs it',
          ...scoped('subscribe'),
          requestBody: body({
            type: 'object',
            required: ['email', 'purposes'],
            properties: {
              email: { type: 'string', maxLength: 254 },
              purposes: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 50 },
              locale: { enum: ['fr', 'en'], default: 'fr' },
              source: { type: 'string', maxLength: 500 },
              evidence: {
                type: 'object',
                properties: {
                  ip: { type: 'string' },
                  user_agent: { type: 'string' },
                  page_url: { type: 'string' },
                  form: { type: 'string' },
                  shown_unticked: { type: 'boolean' },
                },
              },
              attributes: {
                type: 'object',
                additionalProperties: { type: 'string', maxLength: 1000 },
              },
            },
          }),
          responses: {
            202: json(
              {
                type: 'object',
                properties: {
                  contact_id: { type: 'string' },
                  purposes: {
                    type: 'object',
                    additionalProperties: { enum: ['pending', 'granted'] },
                  },
                  confirmation: { enum: ['sent', 'throttled', 'none'] },
                },
              },
              'Accepted',
            ),
            ...errors(400, 401, 403, 413),
          },
        },
      },
      '/gate': {
        post: {
          summary:
            'May a message of this purpose go to these contacts? (up to 10,000, in input order)',
          ...scoped('gate'),
          requestBody: body({
            type: 'object',
            required: ['purpose', 'contacts'],
            properties: {
              purpose: { type: 'string' },
              contacts: { type: 'array', items: contactRef, minItems: 1, maxItems: 10000 },
            },
          }),
          responses: {
            200: json({
              type: 'object',
              properties: {
                results: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      allowed: { type: 'boolean' },
                      reason: { enum: [...GATE_REASONS, null] },
                    },
                  },
                },
              },
            }),
            ...errors(400, 401, 403, 413),
          },
        },
      },
      '/send': {
        post: {
          summary:
            'Send a marketing e-mail: gated, with unsubscribe and preference links and RFC 8058 headers added',
          ...scoped('send'),
          requestBody: body({
            type: 'object',
            required: ['purpose', 'to', 'subject'],
            properties: {
              purpose: { type: 'string' },
              to: { type: 'string', format: 'email' },
              subject: { type: 'string', maxLength: 998 },
              html: {
                type: 'string',
                description: '{{unsubscribe_url}} and {{preferences_url}} may place the links',
              },
              text: { type: 'string' },
              locale: { enum: ['fr', 'en'] },
            },
          }),
          responses: {
            200: json(
              {
                type: 'object',
                properties: { status: { const: 'blocked' }, reason: { enum: [...GATE_REASONS] } },
              },
              'Blocked by the gate',
            ),
            202: json(
              {
                type: 'object',
                properties: { status: { const: 'queued' }, id: { type: 'string' } },
              },
              'Accepted: taken by the mail transport, or queued for retry when it refused the mail',
            ),
            ...errors(400, 401, 403, 413),
          },
        },
      },
      '/contacts/{ref}/consents': {
        get: {
          summary:
            'Proof: state per purpose, every event with evidence and wording, and a signed receipt (JWS, ES256)',
          ...scoped('consents:read'),
          parameters: [
            {
              name: 'ref',
              in: 'path',
              required: true,
              description: 'e-mail address or contact id',
              schema: { type: 'string' },
            },
          ],
          responses: {
            200: json({
              type: 'object',
              properties: {
                contact_id: { type: 'string' },
                state: { type: 'object' },
                history: { type: 'array' },
                receipt: { type: 'string', description: 'verify with /.well-known/jwks.json' },
              },
            }),
            ...errors(401, 403, 404),
          },
        },
      },
      '/purposes': {
        get: {
          summary: 'Every purpose with its current wording per locale',
          ...scoped('subscribe'),
          responses: { 200: json({ type: 'object' }), ...errors(401, 403) },
        },
        post: {
          summary: 'Add a purpose',
          ...scoped('admin'),
          requestBody: body({
            type: 'object',
            required: ['key', 'channel', 'legal_basis'],
            properties: {
              key: { type: 'string', pattern: '^[a-z][a-z0-9_]{1,63}$' },
              channel: { enum: ['email', 'sms', 'push', 'web', 'app', 'data'] },
              legal_basis: { enum: ['consent', 'legitimate_interest'] },
              double_opt_in: { type: 'boolean' },
              max_consent_age_days: { type: ['integer', 'null'] },
            },
          }),
          responses: { 201: json({ type: 'object' }, 'Created'), ...errors(400, 401, 403, 409) },
        },
      },
      '/purposes/{key}/notices': {
        post: {
          summary: 'Publish the next version of a notice (published versions are immutable)',
          ...scoped('admin'),
          parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: body({
            type: 'object',
            required: ['locale', 'title', 'text'],
            properties: {
              locale: { enum: ['fr', 'en'] },
              title: { type: 'string' },
              text: { type: 'string' },
              privacy_url: { type: 'string' },
              requires_reconsent: { type: 'boolean' },
            },
          }),
          responses: {
            201: json({ type: 'object' }, 'Created'),
            ...errors(400, 401, 403, 404, 409),
          },
        },
      },
      '/outbox': {
        get: {
          summary: 'Messages to Mautic and mails still pending, or dead-lettered after every retry',
          ...scoped('admin'),
          parameters: [
            { name: 'status', in: 'query', schema: { enum: ['dead', 'pending'], default: 'dead' } },
          ],
          responses: {
            200: json(
              {
                type: 'object',
                properties: {
                  messages: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        id: { type: 'string' },
                        kind: { type: 'string' },
                        ordering_key: { type: ['string', 'null'] },
                        attempts: { type: 'integer' },
                        last_error: { type: ['string', 'null'] },
                        next_attempt_at: { type: 'integer' },
                        created_at: { type: 'integer' },
                      },
                    },
                  },
                },
              },
              'OK',
            ),
            ...errors(400, 401, 403),
          },
        },
      },
      '/outbox/{id}/retry': {
        post: {
          summary: 'Put a dead-lettered message back in the queue',
          ...scoped('admin'),
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: json({ type: 'object', properties: { status: { const: 'pending' } } }, 'OK'),
            ...errors(401, 403, 404),
          },
        },
      },
      '/findings': {
        get: {
          summary:
            'Compliance findings: sends without consent, consents claimed in Mautic without proof, contacts without proof, bounces',
          ...scoped('admin'),
          parameters: [
            { name: 'open', in: 'query', schema: { type: 'boolean', default: true } },
            {
              name: 'kind',
              in: 'query',
              schema: {
                enum: ['send_without_consent', 'unproven_consent_claim', 'no_proof', 'bounced'],
              },
            },
          ],
          responses: {
            200: json(
              {
                type: 'object',
                properties: { findings: { type: 'array', items: { type: 'object' } } },
              },
              'OK',
            ),
            ...errors(400, 401, 403),
          },
        },
      },
    },
  }
}

/**
 * `extraPaths`: paths described elsewhere (the admin API's, src/routes/api/admin/index.ts), added to
 * the document on its first request.
 */
export function openApiRoutes(
  publicUrl: string,
  extraPaths?: () => Promise<Record<string, unknown>>,
) {
  let doc: Promise<string> | undefined
  const build = async () => {
    const base = openApiDocument(publicUrl)
    const extra = extraPaths ? await extraPaths() : {}
    return JSON.stringify({ ...base, paths: { ...base.paths, ...extra } })
  }
  return new Hono().get('/', async (c) => {
    doc ??= build()
    c.header('Cache-Control', 'public, max-age=300')
    return c.body(await doc, 200, { 'Content-Type': 'application/json; charset=utf-8' })
  })
}
