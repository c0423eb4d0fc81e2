/**
 * @module Data-subject requests worked through by staff (GDPR Art. 12): the queue (overdue first, then
 * by deadline), a request's history and notes, the identity check, completion, and the extension of
 * Art. 12(3) — "by two further months where necessary, taking into account the complexity and number
 * of the requests", the person told of it and why within the first month. A request that came by post
 * or phone is recorded here and goes through the same steps. Notes are encrypted (they may name the
 * person); every step is in the request's history and in the audit log.
 */
import type { CompiledQuery } from 'kysely'
import { findContactById } from '../../db/repositories/contacts.ts'
import {
  completeDsrQuery,
  extendDsrQuery,
  findDsr,
  insertDsrHistoryQuery,
  listCompletedDsr,
  listDsrHistory,
  listDsrRequests,
  verifyDsrQuery,
  type DsrRow,
} from '../../db/repositories/dsr.ts'
import type { DsrKind } from '../../db/database.ts'
import type { Deps } from '../../deps.ts'
import { normalizeEmail } from '../../lib/email.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { findContactByRef } from '../consent/proof.ts'
import { contactEmail } from '../platform/contacts.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { dsrDueDate, insertDsrQueries } from '../rights/dsr.ts'
import type { Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'

export const DSR_KINDS: readonly DsrKind[] = ['access', 'export', 'rectify', 'erase', 'object']
/** How a request reached the controller when staff record it. */
export const DSR_VIAS = ['post', 'phone', 'email', 'in_person'] as const
export type DsrVia = (typeof DSR_VIAS)[number]
/** Art. 12(3): at most two further months. */
export const MAX_EXTENSION_MONTHS = 2
export const NOTE_MAX = 2_000

const noteAad = (historyId: string) => `dsr_history.note:${historyId}`
const replyAad = (requestId: string) => `dsr_requests.reply_email:${requestId}`

/** `months` calendar months after `from` (the same rule as the one-month deadline). */
export function monthsAfter(from: number, months: number): number {
  let at = from
  for (let i = 0; i < months; i++) at = dsrDueDate(at)
  return at
}

export interface QueueItem {
  id: string
  kind: DsrKind
  channel: string
  via: string | null
  contactId: string | null
  receivedAt: number
  verifiedAt: number | null
  dueAt: number
  completedAt: number | null
  extended: boolean
  overdue: boolean
}

const detailsOf = (row: DsrRow) => JSON.parse(row.details) as Record<string, unknown>

function item(row: DsrRow, now: number): QueueItem {
  const via = detailsOf(row).via
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    via: typeof via === 'string' ? via : null,
    contactId: row.contact_id,
    receivedAt: row.received_at,
    verifiedAt: row.verified_at,
    dueAt: row.due_at,
    completedAt: row.completed_at,
    extended: row.extended_at !== null,
    overdue: row.completed_at === null && row.due_at < now,
  }
}

/** Open requests, soonest deadline first (so the overdue ones come first), then recent completed ones. */
export async function requestQueue(
  deps: Pick<Deps, 'db' | 'clock'>,
  opts: { open?: number; completed?: number } = {},
): Promise<{ open: QueueItem[]; completed: QueueItem[] }> {
  const now = deps.clock.now()
  const [open, completed] = await Promise.all([
    listDsrRequests(deps.db, { open: true, limit: opts.open ?? 200 }),
    listCompletedDsr(deps.db, opts.completed ?? 50),
  ])
  return { open: open.map((r) => item(r, now)), completed: completed.map((r) => item(r, now)) }
}

export interface RequestDetails extends QueueItem {
  details: Record<string, unknown>
  extensionMonths: number | null
  extensionReason: string | null
  /** Where answers go: the contact's address, or the one recorded with the request (personal data). */
  replyTo: string | null
  history: { at: number; actor: string; step: string; note: string | null }[]
}

export async function requestDetails(deps: Deps, id: string): Promise<RequestDetails | undefined> {
  const row = await findDsr(deps.db, id)
  if (!row) return undefined
  const history = await listDsrHistory(deps.db, id)
  const notes = []
  for (const h of history)
    notes.push({
      at: h.at,
      actor: h.actor,
      step: h.step,
      note: h.note_enc ? await decryptField(deps.keys, h.note_enc, noteAad(h.id)) : null,
    })
  return {
    ...item(row, deps.clock.now()),
    details: detailsOf(row),
    extensionMonths: row.extension_months,
    extensionReason: row.extension_reason,
    replyTo: await replyAddress(deps, row),
    history: notes,
  }
}

async function replyAddress(deps: Deps, row: DsrRow): Promise<string | null> {
  if (row.reply_email_enc) return decryptField(deps.keys, row.reply_email_enc, replyAad(row.id))
  if (!row.contact_id) return null
  const contact = await findContactById(deps.db, row.contact_id)
  return contact?.status === 'active' ? contactEmail(deps, contact) : null
}

async function historyQuery(
  deps: Pick<Deps, 'db' | 'keys' | 'clock'>,
  requestId: string,
  step: string,
  actor: string,
  note: string | null,
): Promise<CompiledQuery> {
  // Time-ordered ids: steps recorded in the same millisecond keep their order.
  const id = uuidv7(deps.clock.now())
  const text = note?.trim().slice(0, NOTE_MAX) || null
  return insertDsrHistoryQuery(deps.db, {
    id,
    request_id: requestId,
    at: deps.clock.now(),
    actor,
    step,
    note_enc: text ? await encryptField(deps.keys, text, noteAad(id)) : null,
  })
}

export type RequestResult =
  | { ok: true; id: string; mailed?: boolean }
  | {
      ok: false
      code:
        | 'not_found'
        | 'invalid_kind'
        | 'invalid_via'
        | 'invalid_email'
        | 'unknown_contact'
        | 'missing_reason'
        | 'completed'
        | 'already_extended'
        | 'invalid_months'
        | 'invalid_date'
        | 'too_late'
    }

export interface NewStaffRequest {
  kind: string
  via: string
  /** When it arrived (a letter's date), if before now. */
  receivedAt?: number
  /** The person, when known: an address or a contact id. */
  contact?: string
  /** Where to answer, when the person is not a known contact. */
  replyEmail?: string
  /** How identity was checked; given, the request is verified now. */
  identity?: string
  note?: string
}

/** Records a request that came by post, phone, e-mail or in person, and its first steps. */
export async function recordStaffRequest(
  deps: Deps,
  input: NewStaffRequest,
  by: Actor,
): Promise<RequestResult> {
  if (!(DSR_KINDS as readonly string[]).includes(input.kind))
    return { ok: false, code: 'invalid_kind' }
  if (!(DSR_VIAS as readonly string[]).includes(input.via))
    return { ok: false, code: 'invalid_via' }
  const now = deps.clock.now()
  const receivedAt = input.receivedAt ?? now
  if (!Number.isFinite(receivedAt) || receivedAt > now || receivedAt < now - 366 * 86_400_000)
    return { ok: false, code: 'invalid_date' }
  const ref = input.contact?.trim()
  const contact = ref ? await findContactByRef(deps, ref) : undefined
  if (ref && !contact) return { ok: false, code: 'unknown_contact' }
  const reply = input.replyEmail?.trim() ? normalizeEmail(input.replyEmail) : null
  if (input.replyEmail?.trim() && !reply) return { ok: false, code: 'invalid_email' }
  const id = crypto.randomUUID()
  const verified = Boolean(input.identity?.trim())
  const queries: CompiledQuery[] = [
    ...insertDsrQueries(deps.db, {
      id,
      contact_id: contact?.id ?? null,
      kind: input.kind as DsrKind,
      channel: 'admin',
      received_at: receivedAt,
      verified_at: verified ? now : null,
      due_at: dsrDueDate(receivedAt),
      completed_at: null,
      handled_by: null,
      details: JSON.stringify({ via: input.via, recorded_by: by.actor }),
      extended_at: null,
      extension_months: null,
      extension_reason: null,
      reply_email_enc: reply ? await encryptField(deps.keys, reply, replyAad(id)) : null,
    }),
    await historyQuery(deps, id, 'received', by.actor, input.note ?? null),
  ]
  if (verified) queries.push(await historyQuery(deps, id, 'verified', by.actor, input.identity!))
  await recordAudit(
    deps,
    {
      ...by,
      action: 'request.record',
      target: `request:${id}`,
      details: { kind: input.kind, via: input.via, verified },
    },
    queries,
  )
  return { ok: true, id }
}

async function step(
  deps: Deps,
  id: string,
  by: Actor,
  action: string,
  build: (row: DsrRow) => Promise<CompiledQuery[] | RequestResult>,
): Promise<RequestResult> {
  const row = await findDsr(deps.db, id)
  if (!row) return { ok: false, code: 'not_found' }
  const built = await build(row)
  if (!Array.isArray(built)) return built
  await recordAudit(deps, { ...by, action, target: `request:${id}` }, built)
  return { ok: true, id }
}

/** The person's identity was checked (how, in the note). */
export const verifyRequest = (deps: Deps, id: string, note: string, by: Actor) =>
  step(deps, id, by, 'request.verify', async (row) =>
    row.completed_at !== null
      ? { ok: false, code: 'completed' }
      : [
          verifyDsrQuery(deps.db, id, deps.clock.now()),
          await historyQuery(deps, id, 'verified', by.actor, note),
        ],
  )

export const noteRequest = (deps: Deps, id: string, note: string, by: Actor) =>
  step(deps, id, by, 'request.note', async () =>
    note.trim()
      ? [await historyQuery(deps, id, 'note', by.actor, note)]
      : { ok: false, code: 'missing_reason' },
  )

/** Answered: what was done, in the note. */
export const completeRequest = (deps: Deps, id: string, note: string, by: Actor) =>
  step(deps, id, by, 'request.complete', async (row) =>
    row.completed_at !== null
      ? { ok: false, code: 'completed' }
      : [
          completeDsrQuery(deps.db, id, deps.clock.now(), by.actor),
          await historyQuery(deps, id, 'completed', by.actor, note),
        ],
  )

/**
 * Extends the deadline by one or two further months (Art. 12(3)), once, with the reason; the reason
 * is mailed to the person when an address is known, else staff tell them by the way the request came.
 */
export async function extendRequest(
  deps: Deps,
  id: string,
  input: { months: number; reason: string },
  by: Actor,
): Promise<RequestResult> {
  if (!Number.isInteger(input.months) || input.months < 1 || input.months > MAX_EXTENSION_MONTHS)
    return { ok: false, code: 'invalid_months' }
  const reason = input.reason.trim().slice(0, NOTE_MAX)
  if (!reason) return { ok: false, code: 'missing_reason' }
  const row = await findDsr(deps.db, id)
  if (!row) return { ok: false, code: 'not_found' }
  if (row.completed_at !== null) return { ok: false, code: 'completed' }
  if (row.extended_at !== null) return { ok: false, code: 'already_extended' }
  const now = deps.clock.now()
  // The person must hear of it within one month of receipt (Art. 12(3)).
  if (now > monthsAfter(row.received_at, 1)) return { ok: false, code: 'too_late' }
  const dueAt = monthsAfter(row.received_at, 1 + input.months)
  const mailed = (await replyAddress(deps, row)) !== null
  const queries: CompiledQuery[] = [
    extendDsrQuery(deps.db, id, { dueAt, months: input.months, reason, now }),
    await historyQuery(deps, id, 'extended', by.actor, reason),
  ]
  if (mailed) {
    queries.push(
      enqueueQuery(deps.db, now, { kind: 'mail.dsr_extension', payload: { requestId: id } }),
      await historyQuery(deps, id, 'mailed', by.actor, null),
    )
  }
  await recordAudit(
    deps,
    {
      ...by,
      action: 'request.extend',
      target: `request:${id}`,
      details: { months: input.months, reason, mailed },
    },
    queries,
  )
  return { ok: true, id, mailed }
}

/** What the extension mail needs: the address, the language, the new deadline and the reason. */
export async function extensionMail(deps: Deps, requestId: string) {
  const row = await findDsr(deps.db, requestId)
  if (!row || row.extended_at === null || row.completed_at !== null) return undefined
  const to = await replyAddress(deps, row)
  if (!to) return undefined
  const contact = row.contact_id ? await findContactById(deps.db, row.contact_id) : undefined
  return {
    to,
    locale: contact?.locale ?? ('fr' as const),
    kind: row.kind,
    receivedAt: row.received_at,
    dueAt: row.due_at,
    months: row.extension_months ?? 1,
    reason: row.extension_reason ?? '',
  }
}
