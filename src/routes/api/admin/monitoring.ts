/**
 * @module /api/v1/admin: where the operations stand (`/operations/status`, what `/metrics` will
 * read), the monitor's findings (list, close with a reason, run the checks now), the quarterly review
 * (its status, the sign-off), re-consent campaigns and the record of backups (a `wrangler d1 export`
 * recorded from a Workers deployment's routine). src/domain/operations/ does the work.
 */
import { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { recordAudit } from '../../../domain/admin/audit.ts'
import { reconsentProgress } from '../../../domain/consent/reconsent.ts'
import {
  BACKUP_KINDS,
  backupStatus,
  recentBackups,
  recordBackup,
} from '../../../domain/operations/backups.ts'
import { runMonitor } from '../../../domain/operations/monitor.ts'
import { REVIEW_ITEMS, reviewStatus, signReviewQueries } from '../../../domain/operations/review.ts'
import { operationsStatus } from '../../../domain/operations/status.ts'
import {
  closeFinding,
  FINDING_KINDS,
  findingList,
  isFindingKind,
} from '../../../domain/platform/findings.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { errors, json } from '../schemas.ts'
import { documentedBody, jsonBody, required } from '../validate.ts'
import { callerOf } from './auth.ts'
import { idParam, isoDate, ms, permitted, requirePermission, text } from './guard.ts'

const Finding = v.object({
  id: v.string(),
  kind: v.picklist(FINDING_KINDS),
  subject: v.nullable(v.string()),
  severity: v.picklist(['high', 'medium', 'low']),
  status: v.picklist(['open', 'closed']),
  contact_id: v.nullable(v.string()),
  mautic_id: v.nullable(v.string()),
  purpose_key: v.nullable(v.string()),
  details: v.record(v.string(), v.unknown()),
  opened_at: v.string(),
  updated_at: v.nullable(v.string()),
  closed_at: v.nullable(v.string()),
  resolution: v.nullable(v.string()),
  alerted_at: v.nullable(v.string()),
})

const CloseBody = v.object({
  resolution: v.pipe(text('resolution', 500), required('resolution')),
})
const MonitorBody = v.object({
  verify: v.optional(v.boolean('verify must be true or false')),
})
const ReviewBody = v.object({
  quarter: v.pipe(
    text('quarter', 7),
    required('quarter'),
    v.description('The calendar quarter, as 2026-Q4'),
  ),
  items: v.array(
    v.picklist(REVIEW_ITEMS, `items lists ${REVIEW_ITEMS.join(', ')}`),
    'items must be an array',
  ),
  notes: v.optional(text('notes', 10_000)),
})
const BackupBody = v.object({
  kind: v.picklist(BACKUP_KINDS, `kind must be one of ${BACKUP_KINDS.join(', ')}`),
  location: v.pipe(text('location', 500), required('location')),
  taken_at: v.optional(isoDate('taken_at')),
  size_bytes: v.optional(
    v.pipe(
      v.number('size_bytes must be a whole number'),
      v.integer('size_bytes must be a whole number'),
      v.minValue(0, 'size_bytes must be a whole number'),
    ),
  ),
  sha256: v.optional(
    v.pipe(
      v.string('sha256 must be 64 hexadecimal characters'),
      v.regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 hexadecimal characters'),
    ),
  ),
})

const anyObject = (description = 'OK') => json(v.record(v.string(), v.unknown()), description)

export function monitoringRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/operations/status',
      describeRoute({
        summary:
          'Where the operations stand: open findings per kind, requests due, outbox, last backup, retention, re-consent, review',
        ...permitted('compliance.read'),
        responses: { 200: anyObject(), ...errors(401, 403) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => c.json(await operationsStatus(deps)),
    )
    .get(
      '/findings',
      describeRoute({
        summary:
          "Compliance findings: the monitor's and the Mautic connector's, open (default), closed or all",
        ...permitted('compliance.read'),
        parameters: [
          {
            name: 'status',
            in: 'query',
            schema: { enum: ['open', 'closed', 'all'], default: 'open' },
          },
          { name: 'kind', in: 'query', schema: { enum: [...FINDING_KINDS] } },
        ],
        responses: {
          200: json(v.object({ findings: v.array(Finding) })),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => {
        const status = c.req.query('status') ?? 'open'
        if (status !== 'open' && status !== 'closed' && status !== 'all')
          return jsonError(c, 400, 'invalid_status', 'status must be open, closed or all')
        const kind = c.req.query('kind')
        if (kind !== undefined && !isFindingKind(kind))
          return jsonError(
            c,
            400,
            'invalid_kind',
            `kind must be one of ${FINDING_KINDS.join(', ')}`,
          )
        return c.json({ findings: await findingList(deps, { status, kind, limit: 1000 }) })
      },
    )
    .post(
      '/findings/:id/close',
      describeRoute({
        summary:
          'Close a finding dealt with, saying how (the monitor opens it again if its condition still holds)',
        ...permitted('compliance.manage'),
        parameters: [idParam()],
        requestBody: documentedBody(CloseBody),
        responses: {
          200: json(v.object({ closed: v.literal(true) })),
          ...errors(400, 401, 403, 404, 409),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(CloseBody),
      async (c) => {
        const id = c.req.param('id')
        const r = await closeFinding(deps, id, c.req.valid('json').resolution)
        if (!r.ok)
          return r.code === 'not_found'
            ? jsonError(c, 404, 'not_found', 'No finding with this id')
            : jsonError(c, 409, 'closed', 'This finding is already closed')
        await recordAudit(
          deps,
          { ...callerOf(c), action: 'finding.close', target: `finding:${id}` },
          [r.query],
        )
        return c.json({ closed: true as const })
      },
    )
    .post(
      '/monitor/run',
      describeRoute({
        summary:
          'Run every check now and queue the alerts due (verify: true also walks every chain, otherwise done once a day)',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(MonitorBody),
        responses: {
          200: json(
            v.object({
              opened: v.number(),
              closed: v.number(),
              open: v.number(),
              failed: v.array(v.string()),
              alerted: v.number(),
            }),
          ),
          ...errors(400, 401, 403),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(MonitorBody),
      async (c) => {
        const r = await runMonitor(deps, { verify: c.req.valid('json').verify === true })
        await recordAudit(deps, {
          ...callerOf(c),
          action: 'monitor.run',
          details: { opened: r.opened, closed: r.closed, open: r.open },
        })
        if (r.alerted > 0) c.set('outboxPending', true)
        return c.json(r)
      },
    )
    .get(
      '/reviews',
      describeRoute({
        summary: 'The quarterly review: the quarter due, its checklist, earlier sign-offs',
        ...permitted('compliance.read'),
        responses: { 200: anyObject(), ...errors(401, 403) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => c.json(await reviewStatus(deps)),
    )
    .post(
      '/reviews',
      describeRoute({
        summary: 'Sign a quarter off: every item of the checklist ticked; closes its reminder',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(ReviewBody),
        responses: {
          201: json(v.object({ quarter: v.string() }), 'Signed'),
          ...errors(400, 401, 403, 409),
        },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(ReviewBody),
      async (c) => {
        const body = c.req.valid('json')
        const caller = callerOf(c)
        const r = await signReviewQueries(deps, body, { actor: caller.actor, role: caller.role })
        if (!r.ok)
          return jsonError(
            c,
            r.error === 'already_signed' ? 409 : 400,
            r.error,
            r.error === 'incomplete'
              ? `every item must be ticked; missing: ${r.missing!.join(', ')}`
              : r.error.replace(/_/g, ' '),
          )
        await recordAudit(
          deps,
          { ...caller, action: 'review.sign', target: `review:${body.quarter}` },
          r.queries,
        )
        return c.json({ quarter: body.quarter }, 201)
      },
    )
    .get(
      '/reconsent',
      describeRoute({
        summary: 'Re-consent campaigns: mailed, answered, still on an older version, grace period',
        ...permitted('compliance.read'),
        responses: { 200: json(v.object({ campaigns: v.array(v.any()) })), ...errors(401, 403) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => c.json({ campaigns: await reconsentProgress(deps) }),
    )
    .get(
      '/backups',
      describeRoute({
        summary: 'The last backup and its age (against BACKUP_MAX_AGE_HOURS), and the recent ones',
        ...permitted('compliance.read'),
        responses: { 200: anyObject(), ...errors(401, 403) },
      }),
      requirePermission(deps, 'compliance.read'),
      async (c) => c.json({ status: await backupStatus(deps), backups: await recentBackups(deps) }),
    )
    .post(
      '/backups',
      describeRoute({
        summary:
          'Record a backup taken elsewhere (a wrangler d1 export, say), for the monitor to count',
        ...permitted('compliance.manage'),
        requestBody: documentedBody(BackupBody),
        responses: { 201: anyObject('Recorded'), ...errors(400, 401, 403) },
      }),
      requirePermission(deps, 'compliance.manage'),
      jsonBody(BackupBody),
      async (c) => {
        const b = c.req.valid('json')
        const takenAt = ms(b.taken_at)
        if (takenAt !== undefined && takenAt > deps.clock.now())
          return jsonError(c, 400, 'invalid_taken_at', 'taken_at must not be in the future')
        const caller = callerOf(c)
        const recorded = await recordBackup(
          deps,
          {
            kind: b.kind,
            location: b.location,
            takenAt,
            sizeBytes: b.size_bytes,
            sha256: b.sha256,
          },
          caller.actor,
        )
        await recordAudit(deps, {
          ...caller,
          action: 'backup.record',
          target: `backup:${recorded.id}`,
        })
        return c.json(recorded, 201)
      },
    )
}
