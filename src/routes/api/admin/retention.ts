/**
 * @module /api/v1/admin/retention (src/domain/operations/retention.ts): the rule and the runs, the dry
 * run a page at a time, and a run started and carried on step by step, each call within D1's and the
 * CPU's limits (what `consent-gateway purge --url --key` calls until the run is done). Starting or
 * continuing a run erases people: `contacts.erase`, with a fresh second factor for a session.
 */
import { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { recordAudit } from '../../../domain/admin/audit.ts'
import {
  advanceRetentionRun,
  getRun,
  listRuns,
  previewRetention,
  runView,
  startRetentionRun,
} from '../../../domain/operations/retention.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { errors, json } from '../schemas.ts'
import { callerOf } from './auth.ts'
import { idParam, permitted, requirePermission } from './guard.ts'

const Run = v.object({
  id: v.string(),
  trigger: v.picklist(['schedule', 'cli', 'admin']),
  actor: v.string(),
  status: v.picklist(['running', 'done', 'failed']),
  phase: v.picklist(['contacts', 'receipts', 'links', 'mail_log', 'done']),
  inactive_days: v.number(),
  cutoff: v.string(),
  scanned: v.number(),
  contacts_erased: v.number(),
  webhook_receipts_deleted: v.number(),
  setup_links_deleted: v.number(),
  mail_logs_deleted: v.number(),
  error: v.nullable(v.string()),
  started_at: v.string(),
  finished_at: v.nullable(v.string()),
})

const Preview = v.object({
  inactive_days: v.number(),
  cutoff: v.nullable(v.string()),
  candidates: v.array(
    v.object({
      contact_id: v.string(),
      created_at: v.string(),
      last_activity_at: v.string(),
      last_activity: v.picklist(['collected', 'consent', 'request', 'contact']),
    }),
  ),
  next: v.nullable(v.string()),
  scanned: v.number(),
  webhook_receipts: v.number(),
  setup_links: v.number(),
  mail_logs: v.number(),
})

export function retentionApiRoutes(deps: Deps) {
  /** A few steps of the run within the request: the caller (or the scheduler) carries on. */
  const carryOn = async (id: string) => {
    let run = await advanceRetentionRun(deps, id)
    const started = Date.now()
    while (run?.status === 'running' && run.locked_until === null && Date.now() - started < 2_000)
      run = await advanceRetentionRun(deps, id)
    return run
  }
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary:
          'The retention rule (RETENTION_INACTIVE_DAYS) and the latest runs with their counts',
        ...permitted('compliance.read'),
        responses: {
          200: json(v.object({ inactive_days: v.number(), runs: v.array(Run) })),
          ...errors(401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) =>
        c.json({
          inactive_days: deps.config.operations.retentionInactiveDays,
          runs: await listRuns(deps, 50),
        }),
    )
    .get(
      '/preview',
      describeRoute({
        summary:
          'The dry run: contacts a run would erase now (ids and dates), a page at a time (`after` = the previous `next`)',
        ...permitted('compliance.read'),
        parameters: [
          { name: 'after', in: 'query', schema: { type: 'string' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 1000, default: 100 } },
        ],
        responses: { 200: json(Preview), ...errors(401, 403) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const limit = Math.max(1, Math.min(1000, Number(c.req.query('limit')) || 100))
        const after = c.req.query('after')?.slice(0, 64) || null
        return c.json(await previewRetention(deps, { after, limit }))
      },
    )
    .post(
      '/runs',
      describeRoute({
        summary:
          'Start a retention run (or join the one running) and carry it a few steps; continue it with …/continue until its status is done',
        ...permitted('contacts.erase'),
        responses: { 202: json(Run, 'Started'), ...errors(401, 403) },
      }),
      requirePermission(deps, 'contacts.erase'),
      async (c) => {
        const caller = callerOf(c)
        const started = await startRetentionRun(deps, { trigger: 'admin', actor: caller.actor })
        await recordAudit(deps, {
          ...caller,
          action: 'retention.run',
          target: `retention:${started.id}`,
        })
        const run = (await carryOn(started.id)) ?? started
        if (run.contacts_erased > 0) c.set('outboxPending', true)
        return c.json(runView(run), 202)
      },
    )
    .get(
      '/runs/:id',
      describeRoute({
        summary: 'One retention run',
        ...permitted('compliance.read'),
        parameters: [idParam()],
        responses: { 200: json(Run), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const run = await getRun(deps, c.req.param('id'))
        return run ? c.json(run) : jsonError(c, 404, 'not_found', 'No retention run with this id')
      },
    )
    .post(
      '/runs/:id/continue',
      describeRoute({
        summary: 'Carry a running retention run a few more steps',
        ...permitted('contacts.erase'),
        parameters: [idParam()],
        responses: { 200: json(Run), ...errors(401, 403, 404) },
      }),
      requirePermission(deps, 'contacts.erase'),
      async (c) => {
        const id = c.req.param('id')
        if (!(await getRun(deps, id)))
          return jsonError(c, 404, 'not_found', 'No retention run with this id')
        const run = (await carryOn(id))!
        if (run.contacts_erased > 0) c.set('outboxPending', true)
        return c.json(runView(run))
      },
    )
}
