/** @module POST /api/v1/subscriptions: consent captured by a website or tool, with its evidence. */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { subscribe } from '../../domain/consent/subscriptions.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, LocaleSchema, scoped } from './schemas.ts'
import { documentedBody, jsonBody, required } from './validate.ts'

const MAX_PURPOSES = 50
const MAX_ATTRIBUTES = 50

const text = (field: string, max: number) =>
  v.nullish(
    v.pipe(
      v.string(`${field} must be a string`),
      v.maxLength(max, `${field} must be at most ${max} characters`),
    ),
  )

const PURPOSES = 'purposes must be a non-empty array of purpose keys'

/** Evidence the caller saw: the subject's IP and user agent, and where and how consent was given. */
const EvidenceSchema = v.object(
  {
    ip: text('ip', 64),
    user_agent: text('user_agent', 1000),
    page_url: text('page_url', 2000),
    form: text('form', 200),
    shown_unticked: v.optional(v.boolean('evidence.shown_unticked must be a boolean')),
  },
  'evidence must be an object',
)

const ATTRIBUTE = 'must be a string of at most 1000 characters with a name of letters, digits and _'

export const SubscriptionBody = v.object({
  email: v.pipe(
    v.string('email must be a string'),
    v.maxLength(254, 'email must be at most 254 characters'),
    required('email'),
  ),
  purposes: v.pipe(
    v.array(v.pipe(v.string(PURPOSES), v.maxLength(64, PURPOSES)), PURPOSES),
    v.minLength(1, PURPOSES),
    v.maxLength(MAX_PURPOSES, `at most ${MAX_PURPOSES} purposes`),
  ),
  locale: v.nullish(LocaleSchema, 'fr'),
  source: text('source', 500),
  evidence: v.nullish(EvidenceSchema),
  attributes: v.nullish(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[A-Za-z0-9_]{1,64}$/, `attribute names ${ATTRIBUTE}`)),
        v.pipe(v.string(`attributes ${ATTRIBUTE}`), v.maxLength(1000, `attributes ${ATTRIBUTE}`)),
        'attributes must be an object',
      ),
      v.check(
        (a) => Object.keys(a).length <= MAX_ATTRIBUTES,
        `at most ${MAX_ATTRIBUTES} attributes`,
      ),
    ),
  ),
})

const SubscriptionAnswer = v.object({
  contact_id: v.string(),
  purposes: v.record(v.string(), v.picklist(['pending', 'granted'])),
  confirmation: v.picklist(['sent', 'throttled', 'none']),
})

export function subscriptionRoutes(deps: Deps) {
  return new Hono().post(
    '/',
    describeRoute({
      summary: 'Record consent for purposes; starts double opt-in where a purpose needs it',
      ...scoped('subscribe'),
      requestBody: documentedBody(SubscriptionBody),
      responses: { 202: json(SubscriptionAnswer, 'Accepted'), ...errors(400, 401, 403, 413) },
    }),
    apiKeyAuth(deps, 'subscribe'),
    jsonBody(SubscriptionBody),
    async (c) => {
      const body = c.req.valid('json')
      const key = c.get('apiKey')!
      const evidence = Object.fromEntries(
        Object.entries(body.evidence ?? {}).filter(([, value]) => value != null),
      )
      const result = await subscribe(deps, {
        email: body.email,
        purposes: body.purposes,
        locale: body.locale,
        evidence,
        attributes: body.attributes ?? undefined,
        method: 'api',
        source: body.source ?? `api:${key.name}`,
        actor: `api:${key.name}`,
      })
      if (!result.ok) return jsonError(c, 400, result.code, result.message)
      c.set('outboxPending', result.confirmation === 'sent')
      return c.json(
        {
          contact_id: result.contactId,
          purposes: result.purposes,
          confirmation: result.confirmation,
        },
        202,
      )
    },
  )
}
