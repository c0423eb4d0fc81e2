/**
 * @module /api/v1/admin/processors (GDPR Art. 28, 30(1)(d)-(e)): the register of processors and other
 * recipients. A webhook URL given for the first time gets a Standard Webhooks secret, shown once in
 * the answer (`webhook_secret`); corrections and erasures then reach it signed (Art. 19).
 */
import { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { FIELD_CATEGORIES } from '../../../domain/compliance/classify.ts'
import {
  createProcessor,
  getProcessor,
  listProcessors,
  PROCESSOR_ROLES,
  rotateWebhookSecret,
  TRANSFER_BASES,
  updateProcessor,
  type ProcessorResult,
} from '../../../domain/compliance/processors.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import type { Context } from 'hono'
import { errors, json } from '../schemas.ts'
import { documentedBody, jsonBody, required } from '../validate.ts'
import { idParam, isoDate, ms, permitted, requirePermission, text } from './guard.ts'

const oneOf = <T extends string>(field: string, allowed: readonly T[]) =>
  v.picklist(allowed, `${field} must be one of ${allowed.join(', ')}`)

const fields = {
  role: oneOf('role', PROCESSOR_ROLES),
  data_categories: v.pipe(
    v.array(oneOf('data_categories', FIELD_CATEGORIES), 'data_categories must be an array'),
    v.maxLength(FIELD_CATEGORIES.length, 'data_categories lists each category at most once'),
  ),
  country: v.pipe(
    text('country', 2),
    v.regex(/^[A-Za-z]{2}$/, 'country must be an ISO 3166-1 two-letter code'),
  ),
  transfer_basis: v.nullish(oneOf('transfer_basis', TRANSFER_BASES)),
  contract_signed_at: v.nullish(isoDate('contract_signed_at')),
  last_review_at: v.nullish(isoDate('last_review_at')),
  webhook_url: v.nullish(text('webhook_url', 2000)),
  notify_rights: v.optional(v.boolean('notify_rights must be true or false')),
  notes: v.nullish(text('notes', 2000)),
}

const CreateBody = v.object({
  name: v.pipe(text('name', 200), required('name')),
  ...fields,
  data_categories: v.optional(fields.data_categories),
})

const UpdateBody = v.object({
  name: v.optional(v.pipe(text('name', 200), required('name'))),
  role: v.optional(fields.role),
  data_categories: v.optional(fields.data_categories),
  country: v.optional(fields.country),
  transfer_basis: fields.transfer_basis,
  contract_signed_at: fields.contract_signed_at,
  last_review_at: fields.last_review_at,
  webhook_url: fields.webhook_url,
  notify_rights: fields.notify_rights,
  notes: fields.notes,
  archived: v.optional(v.boolean('archived must be true or false')),
})

export const ProcessorView = v.object({
  id: v.string(),
  name: v.string(),
  role: v.picklist(PROCESSOR_ROLES),
  data_categories: v.array(v.picklist(FIELD_CATEGORIES)),
  country: v.string(),
  third_country: v.boolean(),
  transfer_basis: v.nullable(v.picklist(TRANSFER_BASES)),
  contract_signed_at: v.nullable(v.string()),
  last_review_at: v.nullable(v.string()),
  webhook_url: v.nullable(v.string()),
  rights_channel: v.picklist(['webhook', 'task', 'none']),
  notes: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  archived_at: v.nullable(v.string()),
  webhook_secret: v.optional(
    v.pipe(v.string(), v.description('Shown once: keep it at the receiver')),
  ),
})

function answer(c: Context, result: ProcessorResult, status: 200 | 201) {
  if (!result.ok)
    return jsonError(c, result.code === 'not_found' ? 404 : 400, result.code, result.message)
  return c.json(
    {
      ...result.processor,
      ...(result.webhook_secret && { webhook_secret: result.webhook_secret }),
    },
    status,
  )
}

export function processorRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary: 'The processors register',
        ...permitted('compliance.read'),
        parameters: [
          { name: 'archived', in: 'query', schema: { type: 'boolean', default: false } },
        ],
        responses: {
          200: json(v.object({ processors: v.array(ProcessorView) })),
          ...errors(401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) =>
        c.json({
          processors: await listProcessors(deps, {
            includeArchived: c.req.query('archived') === 'true',
          }),
        }),
    )
    .post(
      '/',
      describeRoute({
        summary: 'Register a processor or recipient (a webhook gets a secret, shown once)',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(CreateBody),
        responses: { 201: json(ProcessorView, 'Created'), ...errors(400, 401, 403) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(CreateBody),
      async (c) => {
        const b = c.req.valid('json')
        const result = await createProcessor(deps, {
          ...b,
          contract_signed_at: ms(b.contract_signed_at),
          last_review_at: ms(b.last_review_at),
        })
        return answer(c, result, 201)
      },
    )
    .get(
      '/:id',
      describeRoute({
        summary: 'One processor',
        ...permitted('compliance.read'),
        parameters: [idParam()],
        responses: { 200: json(ProcessorView), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const p = await getProcessor(deps, c.req.param('id'))
        return p ? c.json(p) : jsonError(c, 404, 'not_found', 'No processor with this id')
      },
    )
    .patch(
      '/:id',
      describeRoute({
        summary: 'Change a processor: contract date, security review, webhook, archive…',
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        requestBody: documentedBody(UpdateBody),
        responses: { 200: json(ProcessorView), ...errors(400, 401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(UpdateBody),
      async (c) => {
        const b = c.req.valid('json')
        const result = await updateProcessor(deps, c.req.param('id'), {
          ...b,
          contract_signed_at: ms(b.contract_signed_at),
          last_review_at: ms(b.last_review_at),
        })
        return answer(c, result, 200)
      },
    )
    .post(
      '/:id/rotate-secret',
      describeRoute({
        summary: 'A new webhook secret (the old one stops at once); shown once',
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        responses: {
          200: json(v.object({ webhook_secret: v.string() })),
          ...errors(401, 403, 404),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      async (c) => {
        const secret = await rotateWebhookSecret(deps, c.req.param('id'))
        if (!secret)
          return jsonError(c, 404, 'not_found', 'No processor with a webhook with this id')
        return c.json({ webhook_secret: secret })
      },
    )
}
