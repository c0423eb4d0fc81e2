/**
 * @module A contact as staff see it (README "Admin console"): found by exact address (its blind
 * index: the address itself is never searched), Mautic id or contact id; its consent state per
 * purpose; the ledger's events with the exact wording and version shown (GDPR Art. 7(1)) and, for
 * roles allowed personal data, their evidence (IP, user agent: Art. 5(1)(f), 25 — need to know);
 * its data-subject requests; and what staff may do on the person's behalf, each with a reason, in the
 * audit log: withdraw a purpose, record an objection (Art. 21), erase (Art. 17).
 */
import type { CompiledQuery } from 'kysely'
import { findContactById, type ContactRow } from '../../db/repositories/contacts.ts'
import { completeDsrQuery, findDsr } from '../../db/repositories/dsr.ts'
import { findEvents, findStates } from '../../db/repositories/ledger.ts'
import { linkedContactId, mauticIdsOf } from '../../db/repositories/mautic.ts'
import { findNoticesByIds, type NoticeRow } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { withdraw } from '../consent/withdrawal.ts'
import { consentProof, findContactByRef } from '../consent/proof.ts'
import { contactDataKey, contactEmail, openEvidence } from '../platform/contacts.ts'
import { contactRequests, dsrDueDate, insertDsrQueries, type DsrView } from '../rights/dsr.ts'
import { eraseContact } from '../rights/erasure.ts'
import { objectToMarketing } from '../rights/objection.ts'
import { collectPersonalData } from '../rights/data-export.ts'
import type { Actor } from './accounts.ts'
import { recordAudit } from './audit.ts'
import { insertDsrHistoryQuery } from '../../db/repositories/dsr.ts'

/** Events shown on a contact's page, newest first (the proof page and the receipt hold them all). */
export const TIMELINE_LIMIT = 200

/** Finds a contact by exact address, Mautic id ("mautic:12" or digits) or contact id. */
export async function findContactForStaff(
  deps: Pick<Deps, 'db' | 'keys' | 'hmac'>,
  query: string,
): Promise<ContactRow | undefined> {
  const q = query.trim()
  if (!q || q.length > 254) return undefined
  if (q.includes('@')) return findContactByRef(deps, q)
  const mautic = /^(?:mautic:)?(\d{1,18})$/.exec(q)
  if (mautic) {
    const id = await linkedContactId(deps.db, mautic[1]!)
    return id ? findContactById(deps.db, id) : undefined
  }
  return /^[0-9a-f-]{36}$/.test(q) ? findContactById(deps.db, q) : undefined
}

export interface StaffNotice {
  id: string
  version: number
  locale: string
  title: string
  text: string
  privacyUrl: string
  contentHash: string
}

export interface StaffEvent {
  id: string
  seq: number
  purpose: string
  action: string
  method: string
  source: string
  actor: string
  occurredAt: number
  recordedAt: number
  notice: StaffNotice | null
  /** Opened only for `personal`; `erased` when the contact's key is gone. */
  evidence: Record<string, unknown> | null
  evidenceErased: boolean
  hash: string
}

export interface StaffContact {
  id: string
  status: 'active' | 'erased'
  locale: string
  createdAt: number
  objectedAt: number | null
  erasedAt: number | null
  /** Only for `personal`. */
  email: string | null
  states: {
    purpose: string
    status: string
    noticeVersion: number | null
    noticeLocale: string | null
    grantedAt: number | null
    changedAt: number
  }[]
  events: StaffEvent[]
  eventCount: number
  requests: DsrView[]
  mauticIds: string[]
}

const noticeView = (n: NoticeRow): StaffNotice => ({
  id: n.id,
  version: n.version,
  locale: n.locale,
  title: n.title,
  text: n.body,
  privacyUrl: n.privacy_url,
  contentHash: n.content_hash,
})

/** The contact's page: personal data (address, evidence) only when `personal`. */
export async function staffContactView(
  deps: Deps,
  id: string,
  opts: { personal: boolean; limit?: number },
): Promise<StaffContact | undefined> {
  const contact = await findContactById(deps.db, id)
  if (!contact) return undefined
  const [states, events, requests, mauticIds] = await Promise.all([
    findStates(deps.db, id),
    findEvents(deps.db, id),
    contactRequests(deps, id),
    mauticIdsOf(deps.db, id),
  ])
  const shown = events.slice(-(opts.limit ?? TIMELINE_LIMIT)).reverse()
  const noticeIds = [...new Set(shown.flatMap((e) => (e.notice_id ? [e.notice_id] : [])))]
  const notices = new Map((await findNoticesByIds(deps.db, noticeIds)).map((n) => [n.id, n]))
  const dataKey = opts.personal ? await contactDataKey(deps, contact) : null
  const timeline: StaffEvent[] = []
  for (const e of shown) {
    const n = e.notice_id ? notices.get(e.notice_id) : undefined
    timeline.push({
      id: e.id,
      seq: e.seq,
      purpose: e.purpose_key,
      action: e.action,
      method: e.method,
      source: e.source,
      actor: e.actor,
      occurredAt: e.occurred_at,
      recordedAt: e.recorded_at,
      notice: n ? noticeView(n) : null,
      evidence:
        opts.personal && e.evidence_enc && dataKey
          ? await openEvidence(deps.keys, dataKey, e.evidence_enc, `consent_events:${e.id}`)
          : null,
      evidenceErased: e.evidence_enc !== null && contact.data_key_enc === null,
      hash: e.hash,
    })
  }
  return {
    id: contact.id,
    status: contact.status,
    locale: contact.locale,
    createdAt: contact.created_at,
    objectedAt: contact.objected_at,
    erasedAt: contact.erased_at,
    email: opts.personal ? await contactEmail(deps, contact) : null,
    states: states
      .map((s) => ({
        purpose: s.purpose_key,
        status: s.status,
        noticeVersion: s.notice_version,
        noticeLocale: s.notice_locale,
        grantedAt: s.granted_at,
        changedAt: s.changed_at,
      }))
      .sort((a, b) => a.purpose.localeCompare(b.purpose)),
    events: timeline,
    eventCount: events.length,
    requests,
    mauticIds,
  }
}

/** The signed receipt (a compact JWS anyone checks with /.well-known/jwks.json) and the proof it signs. */
export async function staffReceipt(deps: Deps, id: string, by: Actor & { reason: string }) {
  const proof = await consentProof(deps, id)
  if (!proof) return undefined
  await recordAudit(deps, {
    ...by,
    action: 'contact.receipt',
    target: `contact:${id}`,
    details: { reason: by.reason },
  })
  return proof
}

/** Everything the gateway holds on the person (Art. 15, 20), for a request that came by post or phone. */
export async function staffExport(deps: Deps, id: string, by: Actor & { reason: string }) {
  const contact = await findContactById(deps.db, id)
  if (!contact || contact.status !== 'active') return undefined
  const data = await collectPersonalData(deps, contact)
  await recordAudit(deps, {
    ...by,
    action: 'contact.export',
    target: `contact:${id}`,
    details: { reason: by.reason },
  })
  return data
}

export type StaffActionResult =
  | { ok: true; changed: string[]; requestId?: string }
  | {
      ok: false
      code: 'unknown_contact' | 'unknown_purpose' | 'unknown_request' | 'missing_reason'
    }

export interface StaffAction extends Actor {
  reason: string
  /** How the staff member acts: the console or the admin API (the ledger event's source). */
  via: 'console' | 'api'
}

const auditAfter = async (
  deps: Deps,
  by: StaffAction,
  action: string,
  id: string,
  result: StaffActionResult,
  details: Record<string, unknown> = {},
) => {
  await recordAudit(deps, {
    ...by,
    action,
    target: `contact:${id}`,
    outcome: result.ok ? 'ok' : 'failed',
    details: { reason: by.reason, ...details, ...(result.ok ? {} : { error: result.code }) },
  })
  return result
}

const evidenceOf = (by: StaffAction) => ({ reason: by.reason, by: by.actor, via: by.via })

/** Withdraws purposes on the person's behalf (a letter, a call): recorded as theirs, by staff. */
export async function staffWithdraw(
  deps: Deps,
  id: string,
  purposes: string[],
  by: StaffAction,
): Promise<StaffActionResult> {
  if (!by.reason.trim()) return { ok: false, code: 'missing_reason' }
  const r = await withdraw(deps, id, purposes, {
    method: 'admin',
    source: `admin:${by.via}`,
    actor: by.actor,
    evidence: evidenceOf(by),
  })
  const result: StaffActionResult = r.ok ? { ok: true, changed: r.withdrawn } : r
  return auditAfter(deps, by, 'contact.withdraw', id, result, { purposes })
}

/**
 * The request this action answers: the one given (completed in the same unit), or a new one recorded
 * as received by staff and completed at once.
 */
async function requestQueries(
  deps: Deps,
  contactId: string,
  kind: 'object' | 'erase',
  by: StaffAction,
  requestId: string | undefined,
): Promise<{ id: string; queries: CompiledQuery[] } | undefined> {
  const now = deps.clock.now()
  if (requestId) {
    const row = await findDsr(deps.db, requestId)
    if (!row || (row.contact_id !== null && row.contact_id !== contactId)) return undefined
    return {
      id: requestId,
      queries: [
        completeDsrQuery(deps.db, requestId, now, by.actor),
        insertDsrHistoryQuery(deps.db, {
          id: uuidv7(now),
          request_id: requestId,
          at: now,
          actor: by.actor,
          step: 'completed',
          note_enc: null,
        }),
      ],
    }
  }
  const id = crypto.randomUUID()
  return {
    id,
    queries: [
      ...insertDsrQueries(deps.db, {
        id,
        contact_id: contactId,
        kind,
        channel: 'admin',
        received_at: now,
        verified_at: now,
        due_at: dsrDueDate(now),
        completed_at: now,
        handled_by: by.actor,
        details: JSON.stringify({ via: by.via, by: by.actor }),
        extended_at: null,
        extension_months: null,
        extension_reason: null,
        reply_email_enc: null,
      }),
      insertDsrHistoryQuery(deps.db, {
        id: uuidv7(now),
        request_id: id,
        at: now,
        actor: by.actor,
        step: 'completed',
        note_enc: null,
      }),
    ],
  }
}

/** Records the person's objection to all direct marketing (Art. 21), answering a request. */
export async function staffObject(
  deps: Deps,
  id: string,
  by: StaffAction & { requestId?: string },
): Promise<StaffActionResult> {
  if (!by.reason.trim()) return { ok: false, code: 'missing_reason' }
  const request = await requestQueries(deps, id, 'object', by, by.requestId)
  if (!request)
    return auditAfter(deps, by, 'contact.object', id, { ok: false, code: 'unknown_request' })
  const r = await objectToMarketing(deps, id, {
    method: 'admin',
    source: `admin:${by.via}`,
    actor: by.actor,
    evidence: evidenceOf(by),
    extra: request.queries,
  })
  const result: StaffActionResult = r.ok
    ? { ok: true, changed: r.withdrawn, requestId: request.id }
    : r
  return auditAfter(deps, by, 'contact.object', id, result, { request: request.id })
}

/**
 * Erases the person (Art. 17): personal data deleted, the Mautic contacts deleted, every recipient
 * told (Art. 19), the address kept only as a keyed hash on the suppression list; the ledger's events
 * stay with their evidence unreadable. Callers ask for a fresh second factor first.
 */
export async function staffErase(
  deps: Deps,
  id: string,
  by: StaffAction & { requestId?: string },
): Promise<StaffActionResult> {
  if (!by.reason.trim()) return { ok: false, code: 'missing_reason' }
  const request = await requestQueries(deps, id, 'erase', by, by.requestId)
  if (!request)
    return auditAfter(deps, by, 'contact.erase', id, { ok: false, code: 'unknown_request' })
  const r = await eraseContact(deps, id, {
    suppress: 'erased',
    method: 'admin',
    source: `admin:${by.via}`,
    actor: by.actor,
    deleteInMautic: true,
    passOnToRecipients: true,
    requestId: request.id,
    extra: request.queries,
  })
  const result: StaffActionResult = !r.ok
    ? r
    : r.status === 'erased'
      ? { ok: true, changed: r.purposes, requestId: request.id }
      : { ok: true, changed: [] }
  return auditAfter(deps, by, 'contact.erase', id, result, { request: request.id })
}
