/**
 * @module Corrections and erasures passed on to each recipient (GDPR Art. 19): where each stands for a
 * data-subject request (its page shows every recipient's status), the tasks staff carry out for
 * recipients without a webhook, and marking one done.
 */
import { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import {
  completeRecipientTask,
  listRecipientNotices,
  openRecipientTask,
  requestRecipients,
} from '../../../domain/compliance/recipients.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { errors, json } from '../schemas.ts'
import { documentedBody, jsonBody } from '../validate.ts'
import { actor, idParam, permitted, requirePermission, text } from './guard.ts'

const STATUSES = [
  'pending',
  'retrying',
  'delivered',
  'failed',
  'open',
  'done',
  'superseded',
] as const

const NoticeView = v.object({
  id: v.string(),
  request_id: v.nullable(v.string()),
  contact_id: v.string(),
  processor: v.object({ id: v.string(), name: v.string() }),
  kind: v.picklist(['rectify', 'erase']),
  channel: v.picklist(['webhook', 'task']),
  status: v.picklist(STATUSES),
  attempts: v.number(),
  last_error: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
  completed_at: v.nullable(v.string()),
  completed_by: v.nullable(v.string()),
  note: v.nullable(v.string()),
})

const TaskView = v.object({
  ...NoticeView.entries,
  subject: v.nullable(
    v.object({
      email: v.nullable(v.string()),
      changes: v.optional(v.record(v.string(), v.nullable(v.string()))),
    }),
  ),
})

const DoneBody = v.object({ note: v.nullish(text('note', 2000)) })

export function recipientRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/requests/:id/recipients',
      describeRoute({
        summary: "Each recipient's status for one data-subject request (Art. 19)",
        ...permitted('requests.manage'),
        parameters: [idParam()],
        responses: {
          200: json(v.object({ recipients: v.array(NoticeView) })),
          ...errors(401, 403),
        },
      }),
      requirePermission(deps, 'requests.manage'),
      async (c) => c.json({ recipients: await requestRecipients(deps, c.req.param('id')) }),
    )
    .get(
      '/recipient-notices',
      describeRoute({
        summary: 'Corrections and erasures passed on to recipients; open=true: what is left to do',
        ...permitted('requests.manage'),
        parameters: [
          { name: 'channel', in: 'query', schema: { enum: ['webhook', 'task'] } },
          { name: 'open', in: 'query', schema: { type: 'boolean', default: false } },
          { name: 'processor', in: 'query', schema: { type: 'string' } },
        ],
        responses: {
          200: json(v.object({ notices: v.array(NoticeView) })),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'requests.manage'),
      async (c) => {
        const channel = c.req.query('channel')
        if (channel !== undefined && channel !== 'webhook' && channel !== 'task')
          return jsonError(c, 400, 'invalid_channel', 'channel must be webhook or task')
        const notices = await listRecipientNotices(deps, {
          channel,
          open: c.req.query('open') === 'true',
          processorId: c.req.query('processor'),
        })
        return c.json({ notices })
      },
    )
    .get(
      '/recipient-notices/:id',
      describeRoute({
        summary: 'One notice with whom it is about and what changed, to carry out a task by hand',
        ...permitted('contacts.personal'),
        parameters: [idParam()],
        responses: { 200: json(TaskView), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'contacts.personal'),
      async (c) => {
        const task = await openRecipientTask(deps, c.req.param('id'))
        return task ? c.json(task) : jsonError(c, 404, 'not_found', 'No notice with this id')
      },
    )
    .post(
      '/recipient-notices/:id/done',
      describeRoute({
        summary: 'Staff passed the change on by hand: the task is done',
        ...permitted('requests.manage'),
        parameters: [idParam()],
        requestBody: documentedBody(DoneBody),
        responses: { 200: json(NoticeView), ...errors(400, 401, 403, 404, 409) },
      }),
      requirePermission(deps, 'requests.manage'),
      jsonBody(DoneBody),
      async (c) => {
        const result = await completeRecipientTask(
          deps,
          c.req.param('id'),
          actor(c),
          c.req.valid('json').note ?? null,
        )
        if (!result.ok)
          return jsonError(c, result.code === 'not_found' ? 404 : 409, result.code, result.message)
        return c.json(result.notice)
      },
    )
}
