/**
 * @module /api/v1/admin: what the console's part-2 screens show and do, for scripts and for the
 * console itself — the dashboard's figures, contacts (find, view, withdraw, object, erase, signed
 * receipt, export), data-subject requests (queue, record, verify, note, extend, complete), purposes and
 * notice drafts (add, draft, publish, discard), hosted forms, and Mautic's status and mirror mode. Each
 * operation names its permission (src/domain/admin/permissions.ts); erasures and exports of personal
 * data also need a fresh second factor in a session; every change carries a reason and is audited.
 */
import type { Context, Hono, MiddlewareHandler } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import {
  findContactForStaff,
  staffContactView,
  staffErase,
  staffExport,
  staffObject,
  staffReceipt,
  staffWithdraw,
  type StaffActionResult,
} from '../../../domain/admin/contacts.ts'
import { dashboardFigures } from '../../../domain/admin/dashboard.ts'
import { hostedForms, saveHostedForm } from '../../../domain/admin/forms.ts'
import {
  addPurpose,
  discardDraft,
  publishDraft,
  purposeNotices,
  purposeOverviews,
  saveDraft,
  type NoticeResult,
} from '../../../domain/admin/notices.ts'
import { recordAudit } from '../../../domain/admin/audit.ts'
import { can } from '../../../domain/admin/permissions.ts'
import {
  completeRequest,
  DSR_KINDS,
  DSR_VIAS,
  extendRequest,
  noteRequest,
  recordStaffRequest,
  requestDetails,
  requestQueue,
  verifyRequest,
  type RequestResult,
} from '../../../domain/admin/requests.ts'
import { CONFIRM_BUCKETS, COUNTERS } from '../../../domain/platform/counters.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { enforcePreview, switchMirrorMode, testMauticConnection } from '../../../mautic/console.ts'
import { webhookHealth } from '../../../mautic/webhook-health.ts'
import { documentedBody, jsonBody, required } from '../validate.ts'
import { adminAuth, callerOf, type ApiOperation } from './auth.ts'
import { errors, ok, security } from './schemas.ts'

const reason = v.pipe(
  v.string('reason must be a string'),
  v.trim(),
  v.maxLength(500, 'reason must be at most 500 characters'),
  required('reason'),
)
const Reason = v.object({ reason })
const Any = v.any()
const NotFound = (what: string) => ok(v.any(), `No such ${what}`)

/** A staff action with its reason, answering a data-subject request (`request_id`) or as a new one. */
const AnsweringRequest = v.object({
  reason,
  request_id: v.optional(v.pipe(v.string(), v.maxLength(80))),
})

const staffResult = (c: Context, r: StaffActionResult) =>
  r.ok
    ? c.json({ ok: true, changed: r.changed, request_id: r.requestId ?? null })
    : jsonError(
        c,
        r.code === 'unknown_contact' ? 404 : 400,
        r.code,
        r.code === 'unknown_contact'
          ? 'No active contact has this id'
          : r.code === 'unknown_request'
            ? 'No data-subject request of this contact has this id'
            : r.code.replace(/_/g, ' '),
      )

const requestResult = (c: Context, r: RequestResult) =>
  r.ok
    ? c.json({ ok: true, id: r.id, mailed: r.mailed ?? false })
    : jsonError(c, r.code === 'not_found' ? 404 : 400, r.code, r.code.replace(/_/g, ' '))

const noticeResult = (c: Context, r: NoticeResult) =>
  r.ok
    ? c.json({ ok: true, id: r.id, version: r.version })
    : jsonError(c, r.code === 'unknown_purpose' ? 404 : 400, r.code, r.code.replace(/_/g, ' '))

export function consoleOperations(deps: Deps, app: Hono) {
  /** The document entry (with the body's schema, checked by the jsonBody that follows) and the gate. */
  const op = (
    o: ApiOperation,
    summary: string,
    extra: Record<string, unknown> = {},
    body?: v.GenericSchema,
  ): [MiddlewareHandler, MiddlewareHandler] => [
    describeRoute({
      summary,
      tags: ['admin'],
      security,
      ...(body && { requestBody: documentedBody(body) }),
      responses: { 200: ok(Any), ...errors(o.method !== 'GET'), ...extra },
    }),
    adminAuth(deps, o),
  ]
  const by = (c: Context, reasonText: string) => ({ ...callerOf(c), reason: reasonText })
  const staff = (c: Context, reasonText: string) => ({
    ...by(c, reasonText),
    via: 'api' as const,
  })

  // The dashboard's figures (the daily counters; src/domain/platform/counters.ts names them)
  app.get(
    '/dashboard',
    ...op(
      { method: 'GET', path: '/dashboard', permission: 'dashboard.read' },
      `The dashboard's figures over the last 90 days, from the daily counters (${Object.keys(COUNTERS).join(', ')}); time-to-confirm buckets: ${CONFIRM_BUCKETS.map((b) => b.label).join(', ')}`,
    ),
    async (c) => {
      const [f, webhook] = await Promise.all([dashboardFigures(deps), webhookHealth(deps)])
      return c.json({ ...f, mautic_webhook: webhook })
    },
  )

  // Contacts
  app.get(
    '/contacts',
    ...op(
      { method: 'GET', path: '/contacts', permission: 'contacts.read' },
      'Find a contact by exact e-mail address (?q=, its blind index), Mautic id or contact id',
      { 404: NotFound('contact') },
    ),
    async (c) => {
      const found = await findContactForStaff(deps, c.req.query('q') ?? '')
      if (!found) return jsonError(c, 404, 'not_found', 'No contact matches exactly')
      return c.json({ id: found.id, status: found.status })
    },
  )
  app.get(
    '/contacts/:id',
    ...op(
      { method: 'GET', path: '/contacts/{id}', permission: 'contacts.read' },
      "A contact: consent per purpose, the ledger's events with the wording shown (evidence and address only for contacts.personal), requests, Mautic ids",
      { 404: NotFound('contact') },
    ),
    async (c) => {
      const caller = callerOf(c)
      const personal = !caller.role || can(caller.role, 'contacts.personal')
      const contact = await staffContactView(deps, c.req.param('id') ?? '', { personal })
      if (!contact) return jsonError(c, 404, 'not_found', 'No contact has this id')
      return c.json(contact)
    },
  )
  app.post(
    '/contacts/:id/withdraw',
    ...op(
      { method: 'POST', path: '/contacts/{id}/withdraw', permission: 'contacts.act' },
      "Withdraw purposes on the person's behalf",
      { 404: NotFound('contact') },
      v.object({ purposes: v.pipe(v.array(v.string()), v.minLength(1)), reason }),
    ),
    jsonBody(v.object({ purposes: v.pipe(v.array(v.string()), v.minLength(1)), reason })),
    async (c) => {
      const b = c.req.valid('json')
      const r = await staffWithdraw(deps, c.req.param('id') ?? '', b.purposes, staff(c, b.reason))
      if (r.ok) c.set('outboxPending', true)
      return staffResult(c, r)
    },
  )
  app.post(
    '/contacts/:id/object',
    ...op(
      { method: 'POST', path: '/contacts/{id}/object', permission: 'contacts.act' },
      "Record the person's objection to all direct marketing (GDPR Art. 21), answering request_id or as a new request",
      { 404: NotFound('contact') },
      AnsweringRequest,
    ),
    jsonBody(AnsweringRequest),
    async (c) => {
      const b = c.req.valid('json')
      const r = await staffObject(deps, c.req.param('id') ?? '', {
        ...staff(c, b.reason),
        requestId: b.request_id,
      })
      if (r.ok) c.set('outboxPending', true)
      return staffResult(c, r)
    },
  )
  app.post(
    '/contacts/:id/erase',
    ...op(
      { method: 'POST', path: '/contacts/{id}/erase', permission: 'contacts.erase', stepUp: true },
      'Erase the person (GDPR Art. 17): personal data deleted, Mautic contacts deleted, recipients told, the address suppressed',
      { 404: NotFound('contact') },
      AnsweringRequest,
    ),
    jsonBody(AnsweringRequest),
    async (c) => {
      const b = c.req.valid('json')
      const r = await staffErase(deps, c.req.param('id') ?? '', {
        ...staff(c, b.reason),
        requestId: b.request_id,
      })
      if (r.ok) c.set('outboxPending', true)
      return staffResult(c, r)
    },
  )
  app.post(
    '/contacts/:id/receipt',
    ...op(
      {
        method: 'POST',
        path: '/contacts/{id}/receipt',
        permission: 'exports.personal',
        stepUp: true,
      },
      'The proof of consent and its signed receipt (compact JWS; keys at /.well-known/jwks.json)',
      { 404: NotFound('contact') },
      Reason,
    ),
    jsonBody(Reason),
    async (c) => {
      const proof = await staffReceipt(
        deps,
        c.req.param('id') ?? '',
        by(c, c.req.valid('json').reason),
      )
      return proof ? c.json(proof) : jsonError(c, 404, 'not_found', 'No contact has this id')
    },
  )
  app.post(
    '/contacts/:id/export',
    ...op(
      {
        method: 'POST',
        path: '/contacts/{id}/export',
        permission: 'exports.personal',
        stepUp: true,
      },
      'Everything the gateway holds on the person (GDPR Art. 15, 20), for a request that came by post or phone',
      { 404: NotFound('contact') },
      Reason,
    ),
    jsonBody(Reason),
    async (c) => {
      const data = await staffExport(
        deps,
        c.req.param('id') ?? '',
        by(c, c.req.valid('json').reason),
      )
      return data ? c.json(data) : jsonError(c, 404, 'not_found', 'No active contact has this id')
    },
  )

  // Data-subject requests (GDPR Art. 12)
  app.get(
    '/requests',
    ...op(
      { method: 'GET', path: '/requests', permission: 'requests.manage' },
      'The queue: open requests by deadline (overdue first), then the latest answered',
    ),
    async (c) => c.json(await requestQueue(deps)),
  )
  app.post(
    '/requests',
    ...op(
      { method: 'POST', path: '/requests', permission: 'requests.manage' },
      'Record a request that came by post, phone, e-mail or in person',
      {},
      v.object({
        kind: v.picklist(DSR_KINDS),
        via: v.picklist(DSR_VIAS),
        received_at: v.optional(
          v.pipe(
            v.string(),
            v.check((s) => !Number.isNaN(Date.parse(s)), 'received_at must be an ISO 8601 date'),
          ),
        ),
        contact: v.optional(v.pipe(v.string(), v.maxLength(254))),
        reply_email: v.optional(v.pipe(v.string(), v.maxLength(254))),
        identity: v.optional(v.pipe(v.string(), v.maxLength(2000))),
        note: v.optional(v.pipe(v.string(), v.maxLength(2000))),
      }),
    ),
    jsonBody(
      v.object({
        kind: v.picklist(DSR_KINDS),
        via: v.picklist(DSR_VIAS),
        received_at: v.optional(
          v.pipe(
            v.string(),
            v.check((s) => !Number.isNaN(Date.parse(s)), 'received_at must be an ISO 8601 date'),
          ),
        ),
        contact: v.optional(v.pipe(v.string(), v.maxLength(254))),
        reply_email: v.optional(v.pipe(v.string(), v.maxLength(254))),
        identity: v.optional(v.pipe(v.string(), v.maxLength(2000))),
        note: v.optional(v.pipe(v.string(), v.maxLength(2000))),
      }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await recordStaffRequest(
        deps,
        {
          kind: b.kind,
          via: b.via,
          receivedAt: b.received_at ? Date.parse(b.received_at) : undefined,
          contact: b.contact,
          replyEmail: b.reply_email,
          identity: b.identity,
          note: b.note,
        },
        callerOf(c),
      )
      return r.ok ? c.json({ ok: true, id: r.id }, 201) : requestResult(c, r)
    },
  )
  app.get(
    '/requests/:id',
    ...op(
      { method: 'GET', path: '/requests/{id}', permission: 'requests.manage' },
      'A request with its history and notes',
      { 404: NotFound('request') },
    ),
    async (c) => {
      const r = await requestDetails(deps, c.req.param('id') ?? '')
      return r ? c.json(r) : jsonError(c, 404, 'not_found', 'No request has this id')
    },
  )
  const longReason = v.pipe(
    v.string('reason must be a string'),
    v.trim(),
    v.maxLength(2000, 'reason must be at most 2000 characters'),
    required('reason'),
  )
  const Text = v.object({ reason: longReason })
  for (const [path, summary, run] of [
    ['verify', 'The person’s identity was checked (how, in reason)', verifyRequest],
    ['notes', 'Add a note to the request', noteRequest],
    ['complete', 'The request is answered (what was done, in reason)', completeRequest],
  ] as const)
    app.post(
      `/requests/:id/${path}`,
      ...op(
        { method: 'POST', path: `/requests/{id}/${path}`, permission: 'requests.manage' },
        summary,
        { 404: NotFound('request') },
        Text,
      ),
      jsonBody(Text),
      async (c) =>
        requestResult(
          c,
          await run(deps, c.req.param('id') ?? '', c.req.valid('json').reason, callerOf(c)),
        ),
    )
  app.post(
    '/requests/:id/extend',
    ...op(
      { method: 'POST', path: '/requests/{id}/extend', permission: 'requests.manage' },
      'Extend the deadline by one or two further months (GDPR Art. 12(3)), once, within the first month; the reason is mailed to the person',
      { 404: NotFound('request') },
      v.object({ months: v.picklist([1, 2]), reason: longReason }),
    ),
    jsonBody(v.object({ months: v.picklist([1, 2]), reason: longReason })),
    async (c) => {
      const b = c.req.valid('json')
      const r = await extendRequest(deps, c.req.param('id') ?? '', b, callerOf(c))
      if (r.ok && r.mailed) c.set('outboxPending', true)
      return requestResult(c, r)
    },
  )

  // Purposes and notices
  app.get(
    '/purposes',
    ...op(
      { method: 'GET', path: '/purposes', permission: 'purposes.read' },
      'Every purpose with its wording in force per language and its drafts',
    ),
    async (c) => c.json({ purposes: await purposeOverviews(deps) }),
  )
  app.post(
    '/purposes',
    ...op(
      { method: 'POST', path: '/purposes', permission: 'purposes.manage' },
      'Add a purpose',
      {},
      v.object({
        key: v.string(),
        channel: v.picklist(['email', 'sms', 'push', 'web', 'app', 'data']),
        legal_basis: v.picklist(['consent', 'legitimate_interest']),
        double_opt_in: v.optional(v.boolean()),
        max_consent_age_days: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
        reason,
      }),
    ),
    jsonBody(
      v.object({
        key: v.string(),
        channel: v.picklist(['email', 'sms', 'push', 'web', 'app', 'data']),
        legal_basis: v.picklist(['consent', 'legitimate_interest']),
        double_opt_in: v.optional(v.boolean()),
        max_consent_age_days: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1))),
        reason,
      }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await addPurpose(
        deps,
        {
          key: b.key,
          channel: b.channel,
          legalBasis: b.legal_basis,
          doubleOptIn: b.double_opt_in ?? false,
          maxConsentAgeDays: b.max_consent_age_days ?? null,
        },
        by(c, b.reason),
      )
      return r.ok ? c.json({ ok: true }, 201) : jsonError(c, 400, r.code, r.message)
    },
  )
  app.get(
    '/purposes/:key',
    ...op(
      { method: 'GET', path: '/purposes/{key}', permission: 'purposes.read' },
      "A purpose's notices per language: published versions, the draft and what it changes",
      { 404: NotFound('purpose') },
    ),
    async (c) => {
      const r = await purposeNotices(deps, c.req.param('key') ?? '')
      return r ? c.json(r) : jsonError(c, 404, 'not_found', 'No purpose has this key')
    },
  )
  app.post(
    '/purposes/:key/drafts',
    ...op(
      { method: 'POST', path: '/purposes/{key}/drafts', permission: 'purposes.manage' },
      'Write (or rewrite) the draft of the next notice version in one language',
      { 404: NotFound('purpose') },
      v.object({
        locale: v.picklist(['fr', 'en']),
        title: v.pipe(v.string(), v.maxLength(200)),
        text: v.pipe(v.string(), v.maxLength(5000)),
        privacy_url: v.optional(v.pipe(v.string(), v.maxLength(2000)), ''),
        requires_reconsent: v.optional(v.boolean(), false),
        reason,
      }),
    ),
    jsonBody(
      v.object({
        locale: v.picklist(['fr', 'en']),
        title: v.pipe(v.string(), v.maxLength(200)),
        text: v.pipe(v.string(), v.maxLength(5000)),
        privacy_url: v.optional(v.pipe(v.string(), v.maxLength(2000)), ''),
        requires_reconsent: v.optional(v.boolean(), false),
        reason,
      }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await saveDraft(
        deps,
        c.req.param('key') ?? '',
        b.locale,
        {
          title: b.title,
          text: b.text,
          privacyUrl: b.privacy_url,
          requiresReconsent: b.requires_reconsent,
        },
        by(c, b.reason),
      )
      return noticeResult(c, r)
    },
  )
  app.post(
    '/purposes/:key/publish',
    ...op(
      { method: 'POST', path: '/purposes/{key}/publish', permission: 'purposes.manage' },
      'Publish the draft of one language as the next version (it never changes afterwards)',
      { 404: NotFound('purpose') },
      v.object({ locale: v.picklist(['fr', 'en']), reason }),
    ),
    jsonBody(v.object({ locale: v.picklist(['fr', 'en']), reason })),
    async (c) => {
      const b = c.req.valid('json')
      return noticeResult(
        c,
        await publishDraft(deps, c.req.param('key') ?? '', b.locale, by(c, b.reason)),
      )
    },
  )
  app.delete(
    '/purposes/:key/drafts/:locale',
    ...op(
      { method: 'DELETE', path: '/purposes/{key}/drafts/{locale}', permission: 'purposes.manage' },
      'Discard the draft of one language',
      { 404: NotFound('purpose') },
      Reason,
    ),
    jsonBody(Reason),
    async (c) =>
      noticeResult(
        c,
        await discardDraft(
          deps,
          c.req.param('key') ?? '',
          c.req.param('locale') ?? '',
          by(c, c.req.valid('json').reason),
        ),
      ),
  )

  // Hosted forms
  app.get(
    '/forms',
    ...op(
      { method: 'GET', path: '/forms', permission: 'purposes.read' },
      'The hosted forms, the wording version each shows per language, and the link to put on a site',
    ),
    async (c) => c.json({ forms: await hostedForms(deps) }),
  )
  app.post(
    '/forms',
    ...op(
      { method: 'POST', path: '/forms', permission: 'purposes.manage' },
      'Create a hosted form, or change the purposes it offers',
      {},
      v.object({
        key: v.pipe(v.string(), v.maxLength(64)),
        purposes: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(50)),
        reason,
      }),
    ),
    jsonBody(
      v.object({
        key: v.pipe(v.string(), v.maxLength(64)),
        purposes: v.pipe(v.array(v.string()), v.minLength(1), v.maxLength(50)),
        reason,
      }),
    ),
    async (c) => {
      const b = c.req.valid('json')
      const r = await saveHostedForm(deps, b.key, b.purposes, by(c, b.reason))
      return r.ok ? c.json({ ok: true }) : jsonError(c, 400, r.code, r.code.replace(/_/g, ' '))
    },
  )

  // Mautic
  app.get(
    '/mautic/status',
    ...op(
      { method: 'GET', path: '/mautic/status', permission: 'integration.read' },
      "The webhook's health, the mirror mode and what enforce mode would write now",
    ),
    async (c) => {
      const [webhook, preview] = await Promise.all([webhookHealth(deps), enforcePreview(deps)])
      return c.json({ configured: deps.config.mautic !== undefined, webhook, mirror: preview })
    },
  )
  app.post(
    '/mautic/test',
    ...op(
      { method: 'POST', path: '/mautic/test', permission: 'integration.manage' },
      'Test the connection to Mautic (its API answers with these credentials)',
      { 502: ok(Any, 'Mautic refused or is not configured') },
      Reason,
    ),
    jsonBody(Reason),
    async (c) => {
      const r = await testMauticConnection(deps)
      await recordAudit(deps, {
        ...callerOf(c),
        action: 'mautic.test',
        outcome: r.ok ? 'ok' : 'failed',
        details: { reason: c.req.valid('json').reason },
      })
      return r.ok ? c.json(r) : jsonError(c, 502, 'mautic_failed', r.error)
    },
  )
  app.post(
    '/mautic/mirror-mode',
    ...op(
      { method: 'POST', path: '/mautic/mirror-mode', permission: 'integration.manage' },
      'Switch the mirror between observe (write nothing to Mautic) and enforce (over MIRROR_MODE); to enforce, the kept changes are queued',
      {},
      v.object({ mode: v.picklist(['observe', 'enforce']), reason }),
    ),
    jsonBody(v.object({ mode: v.picklist(['observe', 'enforce']), reason })),
    async (c) => {
      const b = c.req.valid('json')
      const r = await switchMirrorMode(deps, b.mode, by(c, b.reason))
      if (!r.ok) return jsonError(c, 400, r.code, 'reason is required')
      if (r.queued > 0) c.set('outboxPending', true)
      return c.json({ ok: true, mode: b.mode, queued: r.queued, more: r.more })
    },
  )
}
