/**
 * @module Where each correction and erasure passed on to a recipient stands (GDPR Art. 19; queued by
 * src/domain/platform/recipient-queue.ts in the unit of the change): per request, the status of every
 * recipient (the request's page), the tasks staff carry out for recipients without a webhook, and the
 * bookkeeping of webhook deliveries (src/jobs/recipient-webhook.ts sends them).
 */
import type { RecipientNoticeStatus } from '../../db/database.ts'
import { findProcessor, listProcessorRows } from '../../db/repositories/processors.ts'
import {
  findRecipientNotice,
  listRecipientNotices as listNoticeRows,
  noticesForRequest,
  updateRecipientNotice,
  type RecipientNoticeFilter,
  type RecipientNoticeRow,
} from '../../db/repositories/recipient-notices.ts'
import type { Deps } from '../../deps.ts'
import { OUTBOX_MAX_ATTEMPTS } from '../platform/outbox.ts'
import { openNoticeSubject, type NoticeSubject } from '../platform/recipient-queue.ts'
import { processorWebhookSecret } from './processors.ts'

export interface RecipientStatusView {
  id: string
  request_id: string | null
  contact_id: string
  processor: { id: string; name: string }
  kind: 'rectify' | 'erase'
  channel: 'webhook' | 'task'
  status: RecipientNoticeStatus
  attempts: number
  last_error: string | null
  created_at: string
  updated_at: string
  completed_at: string | null
  completed_by: string | null
  note: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

async function views(deps: Pick<Deps, 'db'>, rows: RecipientNoticeRow[]) {
  const names = new Map(
    (await listProcessorRows(deps.db, { includeArchived: true })).map((p) => [p.id, p.name]),
  )
  return rows.map((r): RecipientStatusView => ({
    id: r.id,
    request_id: r.request_id,
    contact_id: r.contact_id,
    processor: { id: r.processor_id, name: names.get(r.processor_id) ?? '' },
    kind: r.kind,
    channel: r.channel,
    status: r.status,
    attempts: r.attempts,
    last_error: r.last_error,
    created_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at)!,
    completed_at: iso(r.completed_at),
    completed_by: r.completed_by,
    note: r.note,
  }))
}

/** Every recipient of one request and where its notice stands (the request's page). */
export async function requestRecipients(
  deps: Pick<Deps, 'db'>,
  requestId: string,
): Promise<RecipientStatusView[]> {
  return views(deps, await noticesForRequest(deps.db, requestId))
}

/** Notices, e.g. the open tasks for staff (`{ channel: 'task', open: true }`). */
export async function listRecipientNotices(
  deps: Pick<Deps, 'db'>,
  filter: RecipientNoticeFilter = {},
): Promise<RecipientStatusView[]> {
  return views(deps, await listNoticeRows(deps.db, filter))
}

/** One task with what staff need to carry it out: whom it is about and what changed (personal data). */
export async function openRecipientTask(
  deps: Pick<Deps, 'db' | 'keys'>,
  id: string,
): Promise<(RecipientStatusView & { subject: NoticeSubject | null }) | null> {
  const row = await findRecipientNotice(deps.db, id)
  if (!row) return null
  const [view] = await views(deps, [row])
  return { ...view!, subject: await openNoticeSubject(deps, row) }
}

export type TaskResult =
  | { ok: true; notice: RecipientStatusView }
  | { ok: false; code: 'not_found' | 'not_open'; message: string }

/** Staff passed the change on by hand: the task is done and whom it was about is forgotten. */
export async function completeRecipientTask(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  actor: string,
  note: string | null,
): Promise<TaskResult> {
  const row = await findRecipientNotice(deps.db, id)
  if (!row) return { ok: false, code: 'not_found', message: 'No notice with this id' }
  // A webhook notice that failed for good can be settled by hand too.
  if (!(row.status === 'open' || row.status === 'failed'))
    return { ok: false, code: 'not_open', message: `This notice is ${row.status}` }
  const now = deps.clock.now()
  await updateRecipientNotice(deps.db, id, {
    status: 'done',
    subject_enc: null,
    completed_at: now,
    completed_by: actor,
    note,
    updated_at: now,
  })
  const [notice] = await views(deps, [(await findRecipientNotice(deps.db, id))!])
  return { ok: true, notice: notice! }
}

/** What a webhook delivery sends: the Standard Webhooks event (`type`, `timestamp`, `data`). */
export interface NoticeDelivery {
  url: string
  secret: string
  id: string
  body: string
}

/**
 * The delivery of one notice, or null when there is nothing left to send (delivered, superseded by an
 * erasure, done by hand). A processor that lost its webhook meanwhile turns the notice into a task.
 */
export async function prepareNoticeDelivery(
  deps: Pick<Deps, 'db' | 'keys' | 'clock'>,
  noticeId: string,
): Promise<NoticeDelivery | null> {
  const notice = await findRecipientNotice(deps.db, noticeId)
  if (!notice || !['pending', 'retrying', 'failed'].includes(notice.status)) return null
  const processor = await findProcessor(deps.db, notice.processor_id)
  const secret = processor?.webhook_url ? await processorWebhookSecret(deps, processor) : null
  if (!processor?.webhook_url || !secret) {
    await updateRecipientNotice(deps.db, noticeId, {
      channel: 'task',
      status: 'open',
      updated_at: deps.clock.now(),
      note: 'the recipient has no webhook any more',
    })
    return null
  }
  const subject = await openNoticeSubject(deps, notice)
  const event = {
    type: notice.kind === 'erase' ? 'contact.erased' : 'contact.rectified',
    timestamp: new Date(deps.clock.now()).toISOString(),
    data: {
      notice_id: notice.id,
      request_id: notice.request_id,
      contact_id: notice.contact_id,
      email: subject?.email ?? null,
      ...(notice.kind === 'rectify' && { changes: subject?.changes ?? {} }),
      requested_at: new Date(notice.created_at).toISOString(),
    },
  }
  return { url: processor.webhook_url, secret, id: notice.id, body: JSON.stringify(event) }
}

/** The recipient took it (2xx): delivered, and whom it was about is forgotten. */
export async function noticeDelivered(
  deps: Pick<Deps, 'db' | 'clock'>,
  noticeId: string,
): Promise<void> {
  const row = await findRecipientNotice(deps.db, noticeId)
  const now = deps.clock.now()
  await updateRecipientNotice(deps.db, noticeId, {
    status: 'delivered',
    attempts: (row?.attempts ?? 0) + 1,
    last_error: null,
    subject_enc: null,
    completed_at: now,
    updated_at: now,
  })
}

/** A failed attempt: retried by the outbox, `failed` once it gives up (a person can retry or settle it). */
export async function noticeFailed(
  deps: Pick<Deps, 'db' | 'clock'>,
  noticeId: string,
  error: string,
): Promise<void> {
  const row = await findRecipientNotice(deps.db, noticeId)
  const attempts = (row?.attempts ?? 0) + 1
  await updateRecipientNotice(deps.db, noticeId, {
    status: attempts >= OUTBOX_MAX_ATTEMPTS ? 'failed' : 'retrying',
    attempts,
    last_error: error.slice(0, 500),
    updated_at: deps.clock.now(),
  })
}
