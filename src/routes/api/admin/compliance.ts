/**
 * @module /api/v1/admin/compliance: the data inventory (Mautic's contact fields, the gateway's own,
 * fields added by hand; each classified only when a person confirms it), the risk report, and the
 * record of processing activities (GDPR Art. 30) as JSON or CSV. The console's screens call the same
 * domain functions (src/domain/compliance/).
 */
import { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { FIELD_CATEGORIES } from '../../../domain/compliance/classify.ts'
import {
  addManualField,
  classifyField,
  getField,
  LEGAL_BASES,
  listInventory,
  refreshInventory,
  removeManualField,
  reviewField,
} from '../../../domain/compliance/inventory.ts'
import { recordCsv, recordOfProcessing } from '../../../domain/compliance/record.ts'
import {
  listRisks,
  refreshRisks,
  RISK_KINDS,
  SEVERITIES,
} from '../../../domain/compliance/risks.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { isLocale } from '../../../lib/i18n.ts'
import { errors, json } from '../schemas.ts'
import { badInput, documentedBody, jsonBody, required } from '../validate.ts'
import { actor, idParam, permitted, requirePermission, text } from './guard.ts'

const oneOf = <T extends string>(field: string, allowed: readonly T[]) =>
  v.picklist(allowed, `${field} must be one of ${allowed.join(', ')}`)

const ClassifyBody = v.object({
  category: oneOf('category', FIELD_CATEGORIES),
  purpose: v.nullish(text('purpose', 200)),
  legal_basis: v.nullish(oneOf('legal_basis', LEGAL_BASES)),
  retention_days: v.nullish(
    v.pipe(
      v.number('retention_days must be a whole number of days'),
      v.integer('retention_days must be a whole number of days'),
      v.minValue(1, 'retention_days must be a whole number of days'),
      v.maxValue(36500, 'retention_days must be a whole number of days'),
    ),
  ),
  special_condition: v.nullish(text('special_condition', 500)),
  processors: v.nullish(
    v.pipe(
      v.array(text('processors', 64), 'processors must be an array of processor ids'),
      v.maxLength(100, 'at most 100 processors'),
    ),
  ),
  notes: v.nullish(text('notes', 2000)),
})

const ReviewBody = v.object({ note: v.pipe(text('note', 2000), required('note')) })

const FieldBody = v.object({
  name: v.pipe(
    text('name', 64),
    required('name'),
    v.regex(/^[A-Za-z0-9_.-]+$/, 'name must be letters, digits, _, . or -'),
  ),
  label: v.pipe(text('label', 200), required('label')),
  type: v.optional(text('type', 32), 'text'),
})

const FieldView = v.object({
  id: v.string(),
  source: v.picklist(['mautic', 'gateway', 'manual']),
  name: v.string(),
  label: v.string(),
  type: v.string(),
  status: v.picklist(['pending', 'confirmed']),
  suggestion: v.object({
    category: v.nullable(v.picklist(FIELD_CATEGORIES)),
    rule: v.picklist(['keyword', 'type', 'none']),
    match: v.optional(v.string()),
    article: v.optional(v.picklist(['art9', 'art10'])),
    special: v.optional(v.string()),
    review: v.boolean(),
  }),
  category: v.nullable(v.picklist(FIELD_CATEGORIES)),
  purpose: v.nullable(v.string()),
  legal_basis: v.nullable(v.picklist(LEGAL_BASES)),
  retention_days: v.nullable(v.number()),
  special_condition: v.nullable(v.string()),
  processors: v.array(v.string()),
  notes: v.nullable(v.string()),
  confirmed_at: v.nullable(v.string()),
  confirmed_by: v.nullable(v.string()),
  reviewed_at: v.nullable(v.string()),
  review_note: v.nullable(v.string()),
  removed_at: v.nullable(v.string()),
})

const ImportReport = v.object({
  added: v.number(),
  updated: v.number(),
  removed: v.number(),
  pending: v.number(),
})

const RiskView = v.object({
  id: v.string(),
  kind: v.picklist(RISK_KINDS),
  subject: v.string(),
  severity: v.picklist(SEVERITIES),
  details: v.record(v.string(), v.unknown()),
  status: v.picklist(['open', 'closed']),
  opened_at: v.string(),
  closed_at: v.nullable(v.string()),
})

const StatusQuery = v.object({
  status: v.optional(v.picklist(['pending', 'confirmed'], 'status must be pending or confirmed')),
  category: v.optional(oneOf('category', FIELD_CATEGORIES)),
  source: v.optional(oneOf('source', ['mautic', 'gateway', 'manual'] as const)),
  removed: v.optional(v.picklist(['true', 'false'], 'removed must be true or false')),
})

const RiskQuery = v.object({
  status: v.optional(v.picklist(['open', 'closed', 'all'], 'status must be open, closed or all')),
  severity: v.optional(oneOf('severity', SEVERITIES)),
  kind: v.optional(oneOf('kind', RISK_KINDS)),
})

const notFound = 'No field with this id'

export function complianceRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/fields',
      describeRoute({
        summary: 'The data inventory: every personal-data field, its suggestion and classification',
        ...permitted('compliance.read'),
        parameters: [
          { name: 'status', in: 'query', schema: { enum: ['pending', 'confirmed'] } },
          { name: 'category', in: 'query', schema: { enum: [...FIELD_CATEGORIES] } },
          { name: 'source', in: 'query', schema: { enum: ['mautic', 'gateway', 'manual'] } },
          { name: 'removed', in: 'query', schema: { type: 'boolean', default: false } },
        ],
        responses: {
          200: json(v.object({ fields: v.array(FieldView) })),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const q = v.safeParse(StatusQuery, c.req.query())
        if (!q.success) return badInput(c, StatusQuery, q.issues[0])
        const fields = await listInventory(deps, {
          status: q.output.status,
          category: q.output.category,
          source: q.output.source,
          includeRemoved: q.output.removed === 'true',
        })
        return c.json({ fields })
      },
    )
    .post(
      '/fields/import',
      describeRoute({
        summary:
          "Import Mautic's contact fields (GET /api/fields/contact) and the gateway's own; new ones get a suggestion to confirm",
        ...permitted('compliance.manage'),
        responses: {
          200: json(v.object({ gateway: ImportReport, mautic: v.nullable(ImportReport) })),
          ...errors(401, 403, 502),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      async (c) => {
        try {
          return c.json(await refreshInventory(deps))
        } catch (err) {
          const message = String((err as Error)?.message ?? err)
          return jsonError(c, 502, 'mautic_unavailable', message)
        }
      },
    )
    .post(
      '/fields',
      describeRoute({
        summary: 'Add a field held elsewhere (a paper form, another tool)',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(FieldBody),
        responses: { 201: json(FieldView, 'Created'), ...errors(400, 401, 403, 409) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(FieldBody),
      async (c) => {
        const body = c.req.valid('json')
        const result = await addManualField(deps, body)
        if (!result.ok) return jsonError(c, 409, result.code, result.message)
        return c.json(result.field, 201)
      },
    )
    .get(
      '/fields/:id',
      describeRoute({
        summary: 'One field of the inventory',
        ...permitted('compliance.read'),
        parameters: [idParam()],
        responses: { 200: json(FieldView), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const field = await getField(deps, c.req.param('id'))
        return field ? c.json(field) : jsonError(c, 404, 'not_found', notFound)
      },
    )
    .put(
      '/fields/:id',
      describeRoute({
        summary:
          "Confirm a field's classification: category, purpose, legal basis, retention, processors",
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        requestBody: documentedBody(ClassifyBody),
        responses: { 200: json(FieldView), ...errors(400, 401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(ClassifyBody),
      async (c) => {
        const body = c.req.valid('json')
        const result = await classifyField(
          deps,
          c.req.param('id'),
          { ...body, processors: body.processors ?? [] },
          actor(c),
        )
        if (!result.ok)
          return jsonError(c, result.code === 'not_found' ? 404 : 400, result.code, result.message)
        return c.json(result.field)
      },
    )
    .post(
      '/fields/:id/review',
      describeRoute({
        summary: 'Record that a person reviewed what a free-text field holds',
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        requestBody: documentedBody(ReviewBody),
        responses: { 200: json(FieldView), ...errors(400, 401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(ReviewBody),
      async (c) => {
        const field = await reviewField(deps, c.req.param('id'), c.req.valid('json').note, actor(c))
        return field ? c.json(field) : jsonError(c, 404, 'not_found', notFound)
      },
    )
    .delete(
      '/fields/:id',
      describeRoute({
        summary: 'A field added by hand is no longer held (kept for the record, marked removed)',
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        responses: { 200: json(v.object({ removed: v.literal(true) })), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.manage'),
      async (c) => {
        const ok = await removeManualField(deps, c.req.param('id'))
        if (!ok) return jsonError(c, 404, 'not_found', 'No field added by hand with this id')
        return c.json({ removed: true as const })
      },
    )
    .get(
      '/risks',
      describeRoute({
        summary: 'The risk report: findings with their severity, open (default), closed or all',
        ...permitted('compliance.read'),
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: { enum: ['open', 'closed', 'all'], default: 'open' },
          },
          { name: 'severity', in: 'query', schema: { enum: [...SEVERITIES] } },
          { name: 'kind', in: 'query', schema: { enum: [...RISK_KINDS] } },
        ],
        responses: {
          200: json(v.object({ findings: v.array(RiskView) })),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const q = v.safeParse(RiskQuery, c.req.query())
        if (!q.success) return badInput(c, RiskQuery, q.issues[0])
        return c.json({ findings: await listRisks(deps, q.output) })
      },
    )
    .post(
      '/risks/refresh',
      describeRoute({
        summary: 'Run the risk scan now (it also runs with the scheduled jobs)',
        ...permitted('compliance.manage'),
        responses: {
          200: json(v.object({ opened: v.number(), closed: v.number(), open: v.number() })),
          ...errors(401, 403),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      async (c) => c.json(await refreshRisks(deps)),
    )
    .get(
      '/record-of-processing',
      describeRoute({
        summary: 'The record of processing activities (GDPR Art. 30), as JSON or CSV',
        ...permitted('compliance.read'),
        parameters: [
          { name: 'format', in: 'query', schema: { enum: ['json', 'csv'], default: 'json' } },
          { name: 'locale', in: 'query', schema: { enum: ['fr', 'en'], default: 'fr' } },
        ],
        responses: {
          200: {
            description: 'The record',
            content: {
              'application/json': { schema: { type: 'object' } },
              'text/csv': { schema: { type: 'string' } },
            },
          },
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const format = c.req.query('format') ?? 'json'
        const locale = c.req.query('locale') ?? 'fr'
        if (format !== 'json' && format !== 'csv')
          return jsonError(c, 400, 'invalid_format', 'format must be json or csv')
        if (!isLocale(locale)) return jsonError(c, 400, 'invalid_locale', 'locale must be fr or en')
        const record = await recordOfProcessing(deps, locale)
        if (format === 'json') return c.json(record)
        return c.body(recordCsv(record), 200, {
          'Content-Type': 'text/csv; charset=utf-8',
          'Content-Disposition': `attachment; filename="record-of-processing-${locale}.csv"`,
        })
      },
    )
}
