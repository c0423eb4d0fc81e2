/**
 * @module /api/v1/admin/incidents: the breach register (GDPR Art. 33, 34). Every answer carries the
 * 72-hour clock from detection (`clock`), for the screens to show; reminders go to DPO_EMAIL at 48
 * and 66 hours (src/jobs/scheduler.ts).
 */
import { Hono, type Context } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { FIELD_CATEGORIES } from '../../../domain/compliance/classify.ts'
import {
  assessIncident,
  BREACH_NATURES,
  closeIncident,
  createIncident,
  getIncident,
  INCIDENT_RISKS,
  listIncidents,
  recordAuthorityNotification,
  recordPeopleNotification,
  updateIncidentFacts,
  type IncidentResult,
} from '../../../domain/compliance/incidents.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { errors, json } from '../schemas.ts'
import { documentedBody, jsonBody, required } from '../validate.ts'
import { actor, idParam, isoDate, ms, permitted, requirePermission, text } from './guard.ts'

const count = (field: string) =>
  v.nullish(
    v.pipe(
      v.number(`${field} must be a whole number`),
      v.integer(`${field} must be a whole number`),
      v.minValue(0, `${field} must be a whole number`),
    ),
  )

const facts = {
  description: v.optional(text('description', 10_000)),
  nature: v.optional(
    v.array(
      v.picklist(BREACH_NATURES, `nature lists ${BREACH_NATURES.join(', ')}`),
      'nature must be an array',
    ),
  ),
  data_categories: v.optional(
    v.array(
      v.picklist(FIELD_CATEGORIES, `data_categories lists ${FIELD_CATEGORIES.join(', ')}`),
      'data_categories must be an array',
    ),
  ),
  people_affected: count('people_affected'),
  records_affected: count('records_affected'),
  measures: v.nullish(text('measures', 10_000)),
}

const CreateBody = v.object({
  title: v.pipe(text('title', 200), required('title')),
  detected_at: v.optional(isoDate('detected_at')),
  ...facts,
})
const UpdateBody = v.object({
  title: v.optional(v.pipe(text('title', 200), required('title'))),
  ...facts,
})
const AssessBody = v.object({
  risk: v.picklist(INCIDENT_RISKS, `risk must be one of ${INCIDENT_RISKS.join(', ')}`),
  assessment: v.pipe(text('assessment', 10_000), required('assessment')),
})
const AuthorityBody = v.object({
  notified_at: v.optional(isoDate('notified_at')),
  reference: v.nullish(text('reference', 200)),
  delay_reason: v.nullish(text('delay_reason', 10_000)),
})
const PeopleBody = v.object({
  notified: v.boolean('notified must be true or false'),
  notice: v.pipe(text('notice', 10_000), required('notice')),
  notified_at: v.optional(isoDate('notified_at')),
})
const CloseBody = v.object({ measures: v.nullish(text('measures', 10_000)) })

const IncidentView = v.object({
  id: v.string(),
  title: v.string(),
  description: v.string(),
  stage: v.picklist(['detected', 'assessed', 'authority_notified', 'people_notified', 'closed']),
  detected_at: v.string(),
  nature: v.array(v.picklist(BREACH_NATURES)),
  data_categories: v.array(v.picklist(FIELD_CATEGORIES)),
  people_affected: v.nullable(v.number()),
  records_affected: v.nullable(v.number()),
  risk: v.nullable(v.picklist(INCIDENT_RISKS)),
  assessment: v.nullable(v.string()),
  assessed_at: v.nullable(v.string()),
  authority_notified_at: v.nullable(v.string()),
  authority_reference: v.nullable(v.string()),
  delay_reason: v.nullable(v.string()),
  people_notified_at: v.nullable(v.string()),
  people_notice: v.nullable(v.string()),
  measures: v.nullable(v.string()),
  reminders_sent: v.array(v.object({ hours: v.picklist([48, 66]), at: v.string() })),
  clock: v.object({
    deadline: v.string(),
    remaining_ms: v.number(),
    hours_elapsed: v.number(),
    overdue: v.boolean(),
    stopped: v.boolean(),
    stopped_by: v.nullable(v.picklist(['authority_notified', 'risk_unlikely', 'closed'])),
  }),
  closed_at: v.nullable(v.string()),
  created_at: v.string(),
  created_by: v.string(),
})

const STATUS = {
  not_found: 404,
  closed: 409,
  in_future: 400,
  delay_reason_required: 400,
  not_assessed: 409,
} as const
function answer(c: Context, result: IncidentResult, status: 200 | 201 = 200) {
  if (!result.ok) return jsonError(c, STATUS[result.code], result.code, result.message)
  return c.json(result.incident, status)
}

const step = (summary: string, body: v.GenericSchema) =>
  describeRoute({
    summary,
    ...permitted('compliance.manage'),
    parameters: [idParam()],
    requestBody: documentedBody(body),
    responses: { 200: json(IncidentView), ...errors(400, 401, 403, 404, 409) },
  })

export function incidentRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary:
          'The breach register with each 72-hour clock; open ones unless status says otherwise',
        ...permitted('compliance.read'),
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: { enum: ['open', 'closed', 'all'], default: 'open' },
          },
        ],
        responses: {
          200: json(v.object({ incidents: v.array(IncidentView) })),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const status = c.req.query('status') ?? 'open'
        if (status !== 'open' && status !== 'closed' && status !== 'all')
          return jsonError(c, 400, 'invalid_status', 'status must be open, closed or all')
        return c.json({ incidents: await listIncidents(deps, { status }) })
      },
    )
    .post(
      '/',
      describeRoute({
        summary: 'Record a breach: the 72-hour clock runs from detected_at (default: now)',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(CreateBody),
        responses: { 201: json(IncidentView, 'Created'), ...errors(400, 401, 403) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(CreateBody),
      async (c) => {
        const b = c.req.valid('json')
        return answer(
          c,
          await createIncident(deps, { ...b, detected_at: ms(b.detected_at) }, actor(c)),
          201,
        )
      },
    )
    .get(
      '/:id',
      describeRoute({
        summary: 'One incident with its clock',
        ...permitted('compliance.read'),
        parameters: [idParam()],
        responses: { 200: json(IncidentView), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const incident = await getIncident(deps, c.req.param('id'))
        return incident
          ? c.json(incident)
          : jsonError(c, 404, 'not_found', 'No incident with this id')
      },
    )
    .patch(
      '/:id',
      step('Facts learnt along the way (Art. 33(4))', UpdateBody),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(UpdateBody),
      async (c) =>
        answer(c, await updateIncidentFacts(deps, c.req.param('id'), c.req.valid('json'))),
    )
    .post(
      '/:id/assessment',
      step(
        'The risk to people: unlikely (the clock stops), risk, or high (people must be told)',
        AssessBody,
      ),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(AssessBody),
      async (c) => answer(c, await assessIncident(deps, c.req.param('id'), c.req.valid('json'))),
    )
    .post(
      '/:id/authority-notification',
      step(
        'The notification to the supervisory authority; after 72 hours, with the reasons',
        AuthorityBody,
      ),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(AuthorityBody),
      async (c) => {
        const b = c.req.valid('json')
        return answer(
          c,
          await recordAuthorityNotification(deps, c.req.param('id'), {
            ...b,
            notified_at: ms(b.notified_at),
          }),
        )
      },
    )
    .post(
      '/:id/people-notification',
      step('People told (Art. 34), or why they need not be (Art. 34(3))', PeopleBody),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(PeopleBody),
      async (c) => {
        const b = c.req.valid('json')
        return answer(
          c,
          await recordPeopleNotification(deps, c.req.param('id'), {
            ...b,
            notified_at: ms(b.notified_at),
          }),
        )
      },
    )
    .post(
      '/:id/close',
      step('Close the incident with the measures taken', CloseBody),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(CloseBody),
      async (c) => answer(c, await closeIncident(deps, c.req.param('id'), c.req.valid('json'))),
    )
}
