/**
 * @module /api/v1/admin: verifying the ledger and the audit chain, the Mautic connector (connect,
 * sync, mappings), the outbox (list, retry, discard dead letters) and a test of the mail transport:
 * what the CLI does on a SQLite file, for a deployed gateway (Workers) too.
 */
import type { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import { listAudit, recordAudit } from '../../../domain/admin/audit.ts'
import { verifyEverything } from '../../../domain/admin/verify.ts'
import { sendTestMail } from '../../../domain/admin/mail-test.ts'
import { discardDead, listOutboxPage, retryDead } from '../../../domain/platform/outbox.ts'
import { mirrorMode } from '../../../domain/platform/settings.ts'
import { normalizeEmail } from '../../../lib/email.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { connectMautic, explainMauticError, NOT_CONFIGURED } from '../../../mautic/connect.ts'
import { listMappings, mapEmail, mapFormField } from '../../../mautic/mappings.ts'
import { syncMautic } from '../../../mautic/sync.ts'
import { MauticError } from '../../../mautic/types.ts'
import { adminAuth, callerOf } from './auth.ts'
import { errors, jsonBody, ok, security } from './schemas.ts'

const Problems = v.object({ ok: v.boolean(), problems: v.array(v.string()) })
const Verification = v.object({
  ok: v.boolean(),
  ledger: v.object({
    ...Problems.entries,
    chains: v.number(),
    events: v.number(),
    checkpoints: v.number(),
  }),
  audit: v.object({ ...Problems.entries, entries: v.number() }),
})
const Failure = v.object({ error: v.object({ code: v.string(), message: v.string() }) })
const OutboxMessage = v.object({
  id: v.string(),
  kind: v.string(),
  ordering_key: v.nullable(v.string()),
  attempts: v.number(),
  last_error: v.nullable(v.string()),
  next_attempt_at: v.number(),
  created_at: v.number(),
})

export function operations(deps: Deps, app: Hono) {
  app.post(
    '/ledger/verify',
    describeRoute({
      summary: 'Verify every consent chain, the signed checkpoints and the audit chain',
      tags: ['admin'],
      security,
      responses: { 200: ok(Verification), ...errors() },
    }),
    adminAuth(deps, { method: 'POST', path: '/ledger/verify', permission: 'ledger.verify' }),
    async (c) => {
      const r = await verifyEverything(deps)
      await recordAudit(deps, {
        ...callerOf(c),
        action: 'ledger.verify',
        outcome: r.ok ? 'ok' : 'failed',
      })
      return c.json(r)
    },
  )
  app.get(
    '/audit',
    describeRoute({
      summary: 'The audit log, newest first (filters as the console: actor, action, outcome)',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.object({ entries: v.array(v.any()) })), ...errors() },
    }),
    adminAuth(deps, { method: 'GET', path: '/audit', permission: 'audit.read' }),
    async (c) => {
      const outcome = c.req.query('outcome')
      const limit = Math.min(1000, Number(c.req.query('limit')) || 100)
      const entries = await listAudit(deps, {
        actor: c.req.query('actor'),
        action: c.req.query('action'),
        outcome:
          outcome === 'ok' || outcome === 'denied' || outcome === 'failed' ? outcome : undefined,
        limit,
      })
      return c.json({ entries })
    },
  )

  const mauticFailure = (err: unknown) => {
    if (err instanceof MauticError) return explainMauticError(err)
    throw err
  }
  app.post(
    '/mautic/connect',
    describeRoute({
      summary:
        'Register the gateway in Mautic (webhook, fields, tags); a new webhook secret is in the answer',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.any()),
        502: ok(Failure, 'Mautic refused or is not configured'),
        ...errors(true),
      },
    }),
    adminAuth(deps, { method: 'POST', path: '/mautic/connect', permission: 'integration.manage' }),
    jsonBody(v.object({ webhook_url: v.optional(v.pipe(v.string(), v.url())) })),
    async (c) => {
      const r = await connectMautic(deps, { webhookUrl: c.req.valid('json').webhook_url })
      await recordAudit(deps, {
        ...callerOf(c),
        action: 'mautic.connect',
        outcome: r.ok ? 'ok' : 'failed',
      })
      if (!r.ok) return jsonError(c, 502, 'mautic_failed', r.error)
      return c.json(r)
    },
  )
  app.post(
    '/mautic/sync',
    describeRoute({
      summary:
        "Import Mautic's contacts; with report: true, the contacts without proof of consent too",
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.any()),
        502: ok(Failure, 'Mautic refused or is not configured'),
        ...errors(true),
      },
    }),
    adminAuth(deps, { method: 'POST', path: '/mautic/sync', permission: 'integration.manage' }),
    jsonBody(v.object({ report: v.optional(v.boolean()) })),
    async (c) => {
      if (!deps.config.mautic || !deps.mautic)
        return jsonError(c, 502, 'mautic_failed', NOT_CONFIGURED)
      const report = c.req.valid('json').report ?? false
      try {
        const r = await syncMautic(deps, { collect: report })
        await recordAudit(deps, { ...callerOf(c), action: 'mautic.sync', details: { ...r.counts } })
        return c.json({
          counts: r.counts,
          without_proof: report ? r.withoutProof : undefined,
          mirror_mode: await mirrorMode(deps),
        })
      } catch (err) {
        return jsonError(c, 502, 'mautic_failed', mauticFailure(err))
      }
    },
  )
  app.get(
    '/mautic/mappings',
    describeRoute({
      summary: 'Which Mautic form box and e-mail means which purpose',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.any()), ...errors() },
    }),
    adminAuth(deps, { method: 'GET', path: '/mautic/mappings', permission: 'integration.read' }),
    async (c) => c.json(await listMappings(deps)),
  )
  app.post(
    '/mautic/mappings/forms',
    describeRoute({
      summary: 'Map a Mautic form field to a purpose under a published notice version',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ replaced: v.boolean(), warning: v.optional(v.string()) })),
        ...errors(true),
      },
    }),
    adminAuth(deps, {
      method: 'POST',
      path: '/mautic/mappings/forms',
      permission: 'purposes.manage',
    }),
    jsonBody(
      v.object({
        form_id: v.string(),
        field: v.string(),
        purpose: v.string(),
        version: v.pipe(v.number(), v.integer(), v.minValue(1)),
        locale: v.picklist(['fr', 'en']),
      }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await mapFormField(deps, {
        formId: b.form_id,
        fieldAlias: b.field,
        purposeKey: b.purpose,
        noticeVersion: b.version,
        locale: b.locale,
      })
      if (!r.ok) return jsonError(c, 400, 'invalid_mapping', r.error)
      await recordAudit(deps, {
        ...callerOf(c),
        action: 'mautic.map_form',
        target: `form:${b.form_id}`,
        details: { field: b.field, purpose: b.purpose },
      })
      return c.json({ replaced: r.replaced, warning: r.warning })
    },
  )
  app.post(
    '/mautic/mappings/emails',
    describeRoute({
      summary: 'Map a Mautic e-mail or category to a purpose',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.object({ replaced: v.boolean() })), ...errors(true) },
    }),
    adminAuth(deps, {
      method: 'POST',
      path: '/mautic/mappings/emails',
      permission: 'purposes.manage',
    }),
    jsonBody(
      v.object({ kind: v.picklist(['email', 'category']), ref: v.string(), purpose: v.string() }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await mapEmail(deps, { kind: b.kind, ref: b.ref, purposeKey: b.purpose })
      if (!r.ok) return jsonError(c, 400, 'invalid_mapping', r.error)
      await recordAudit(deps, {
        ...callerOf(c),
        action: 'mautic.map_email',
        target: `${b.kind}:${b.ref}`,
        details: { purpose: b.purpose },
      })
      return c.json({ replaced: r.replaced })
    },
  )

  app.get(
    '/outbox',
    describeRoute({
      summary:
        'Pending, failing (pending after a failed attempt) or dead-lettered messages (?status=dead, the default), without payloads',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.object({ messages: v.array(OutboxMessage) })), ...errors() },
    }),
    adminAuth(deps, { method: 'GET', path: '/outbox', permission: 'integration.read' }),
    async (c) => {
      const status = c.req.query('status') ?? 'dead'
      if (status !== 'pending' && status !== 'dead' && status !== 'failing')
        return jsonError(c, 400, 'invalid_status', 'status must be "pending", "failing" or "dead"')
      return c.json({ messages: await listOutboxPage(deps.db, status, 500) })
    },
  )
  app.post(
    '/outbox/:id/retry',
    describeRoute({
      summary: 'Put a dead-lettered message back in the queue',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ status: v.literal('pending') })),
        404: ok(Failure, 'No such dead letter'),
        ...errors(),
      },
    }),
    adminAuth(deps, {
      method: 'POST',
      path: '/outbox/{id}/retry',
      permission: 'integration.manage',
    }),
    async (c) => {
      const id = c.req.param('id') ?? ''
      if (!(await retryDead(deps.db, id, deps.clock.now())))
        return jsonError(c, 404, 'not_found', 'No dead-lettered message with this id')
      await recordAudit(deps, { ...callerOf(c), action: 'outbox.retry', target: `outbox:${id}` })
      c.set('outboxPending', true)
      return c.json({ status: 'pending' as const })
    },
  )
  app.delete(
    '/outbox/:id',
    describeRoute({
      summary: 'Discard a dead-lettered message for good',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ discarded: v.literal(true) })),
        404: ok(Failure, 'No such dead letter'),
        ...errors(),
      },
    }),
    adminAuth(deps, { method: 'DELETE', path: '/outbox/{id}', permission: 'integration.manage' }),
    async (c) => {
      const id = c.req.param('id') ?? ''
      if (!(await discardDead(deps.db, id)))
        return jsonError(c, 404, 'not_found', 'No dead-lettered message with this id')
      await recordAudit(deps, { ...callerOf(c), action: 'outbox.discard', target: `outbox:${id}` })
      return c.json({ discarded: true as const })
    },
  )

  app.post(
    '/mail/test',
    describeRoute({
      summary: 'Send a test e-mail through MAIL_TRANSPORT, now',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ transport: v.string(), message_id: v.string() })),
        502: ok(Failure, 'The transport refused'),
        ...errors(true),
      },
    }),
    adminAuth(deps, { method: 'POST', path: '/mail/test', permission: 'integration.manage' }),
    jsonBody(v.object({ to: v.pipe(v.string(), v.maxLength(254)) })),
    async (c) => {
      const to = normalizeEmail(c.req.valid('json').to)
      if (!to) return jsonError(c, 400, 'invalid_email', 'to is not an e-mail address')
      const r = await sendTestMail(deps, to, callerOf(c))
      if (r.ok) return c.json({ transport: r.transport, message_id: r.messageId })
      return jsonError(c, 502, 'mail_failed', `The ${r.transport} transport refused: ${r.error}`)
    },
  )
}
