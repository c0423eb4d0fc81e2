/**
 * @module /api/v1/outbox and /api/v1/findings (admin keys): the calls to Mautic and mails that failed
 * for good (dead letters), put back in the queue on request, and the compliance findings a DPO must see
 * (a send without consent, a consent claimed in Mautic without proof, a contact with none).
 * Payloads are never shown: they may hold encrypted personal data.
 */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { FINDING_KINDS, listFindings, type FindingKind } from '../../domain/platform/findings.ts'
import { listOutboxMessages, retryDead } from '../../domain/platform/outbox.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, scoped } from './schemas.ts'

const STATUSES = ['pending', 'dead'] as const

const OutboxList = v.object({
  messages: v.array(
    v.object({
      id: v.string(),
      kind: v.string(),
      ordering_key: v.nullable(v.string()),
      attempts: v.number(),
      last_error: v.nullable(v.string()),
      next_attempt_at: v.number(),
      created_at: v.number(),
    }),
  ),
})

const FindingList = v.object({ findings: v.array(v.record(v.string(), v.unknown())) })

export function outboxRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary: 'Messages to Mautic and mails still pending, or dead-lettered after every retry',
        ...scoped('admin'),
        parameters: [
          { name: 'status', in: 'query', schema: { enum: [...STATUSES], default: 'dead' } },
        ],
        responses: { 200: json(OutboxList), ...errors(400, 401, 403) },
      }),
      apiKeyAuth(deps, 'admin'),
      async (c) => {
        const status = c.req.query('status') ?? 'dead'
        if (!(STATUSES as readonly string[]).includes(status))
          return jsonError(c, 400, 'invalid_status', 'status must be "pending" or "dead"')
        const rows = await listOutboxMessages(deps.db, status as 'pending' | 'dead')
        return c.json({ messages: rows })
      },
    )
    .post(
      '/:id/retry',
      describeRoute({
        summary: 'Put a dead-lettered message back in the queue',
        ...scoped('admin'),
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          200: json(v.object({ status: v.literal('pending') })),
          ...errors(401, 403, 404),
        },
      }),
      apiKeyAuth(deps, 'admin'),
      async (c) => {
        const ok = await retryDead(deps.db, c.req.param('id'), deps.clock.now())
        if (!ok) return jsonError(c, 404, 'not_found', 'No dead-lettered message with this id')
        c.set('outboxPending', true)
        return c.json({ status: 'pending' })
      },
    )
}

export function findingRoutes(deps: Deps) {
  return new Hono().get(
    '/',
    describeRoute({
      summary:
        'Compliance findings: sends without consent, consents claimed in Mautic without proof, contacts without proof, bounces',
      ...scoped('admin'),
      parameters: [
        { name: 'open', in: 'query', schema: { type: 'boolean', default: true } },
        { name: 'kind', in: 'query', schema: { enum: [...FINDING_KINDS] } },
      ],
      responses: { 200: json(FindingList), ...errors(400, 401, 403) },
    }),
    apiKeyAuth(deps, 'admin'),
    async (c) => {
      const kind = c.req.query('kind')
      if (kind !== undefined && !FINDING_KINDS.includes(kind as FindingKind))
        return jsonError(c, 400, 'invalid_kind', `kind must be one of ${FINDING_KINDS.join(', ')}`)
      const findings = await listFindings(deps, {
        open: c.req.query('open') !== 'false',
        kind: kind as FindingKind | undefined,
      })
      return c.json({ findings })
    },
  )
}
