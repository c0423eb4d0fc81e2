/** @module POST /api/v1/send: decide, add the links and headers, deliver (or queue for retry). */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { GATE_REASONS } from '../../domain/consent/gate-decision.ts'
import { tallyRefusals } from '../../domain/platform/counters.ts'
import { sendMarketingMail } from '../../domain/sending/send.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, LocaleSchema, scoped } from './schemas.ts'
import { documentedBody, jsonBody, required } from './validate.ts'

const requiredText = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.maxLength(max, `${field} must be at most ${max} characters`),
    required(field),
  )
const optionalText = (field: string, max: number) =>
  v.nullish(
    v.pipe(
      v.string(`${field} must be a string`),
      v.maxLength(max, `${field} must be at most ${max} characters`),
    ),
  )

export const SendBody = v.object({
  subject: v.pipe(
    requiredText('subject', 998),
    // A header value: a line break would let the caller inject headers of its own.
    v.regex(/^[^\r\n]*$/, 'subject must be one line'),
  ),
  html: v.pipe(
    optionalText('html', 900_000),
    v.description('{{unsubscribe_url}} and {{preferences_url}} may place the links'),
  ),
  text: optionalText('text', 900_000),
  locale: v.nullish(LocaleSchema),
  purpose: requiredText('purpose', 64),
  to: requiredText('to', 254),
})

const Blocked = v.object({ status: v.literal('blocked'), reason: v.picklist(GATE_REASONS) })
const Queued = v.object({ status: v.literal('queued'), id: v.string() })

export function sendRoutes(deps: Deps) {
  return new Hono().post(
    '/',
    describeRoute({
      summary:
        'Send a marketing e-mail: gated, with unsubscribe and preference links and RFC 8058 headers added',
      ...scoped('send'),
      requestBody: documentedBody(SendBody, 'html or text is required'),
      responses: {
        200: json(Blocked, 'Blocked by the gate'),
        202: json(
          Queued,
          'Accepted: taken by the mail transport, or queued for retry when it refused the mail',
        ),
        ...errors(400, 401, 403, 413),
      },
    }),
    apiKeyAuth(deps, 'send'),
    jsonBody(SendBody),
    async (c) => {
      const body = c.req.valid('json')
      if (!body.html && !body.text)
        return jsonError(c, 400, 'missing_body', 'html or text is required')
      const result = await sendMarketingMail(deps, {
        purpose: body.purpose,
        to: body.to,
        subject: body.subject,
        html: body.html ?? undefined,
        text: body.text ?? undefined,
        locale: body.locale ?? undefined,
      })
      if (result.status === 'invalid') return jsonError(c, 400, result.code, result.message)
      if (result.status === 'blocked') {
        // Counted in memory, written with the others (src/domain/platform/counters.ts).
        tallyRefusals(deps, 'send_api', body.purpose, [result.reason])
        c.set('countersPending', true)
        return c.json({ status: 'blocked', reason: result.reason })
      }
      if (result.retry) c.set('outboxPending', true)
      return c.json({ status: 'queued', id: result.id }, 202)
    },
  )
}
