/**
 * @module Data-subject requests (GDPR Art. 12(3), 15-21): every access, export, rectification, erasure
 * and objection is recorded with when it was received, verified, due and completed. The controller must
 * answer "within one month of receipt" (Art. 12(3)); self-service requests complete as they are served.
 * Details hold field names and links between requests, never personal data.
 */
import type { CompiledQuery } from 'kysely'
import type { DsrKind } from '../../db/database.ts'
import {
  completeDsrQuery,
  insertDsrQuery,
  listDsrForContact,
  listDsrRequests,
  type DsrFilter,
  type DsrRow,
} from '../../db/repositories/dsr.ts'
import type { Deps } from '../../deps.ts'
import { dsrReceivedQuery } from '../platform/counters.ts'

export const SELF_SERVICE = 'self_service'

/**
 * One calendar month after `receivedAt` (Art. 12(3)), same UTC time of day. A day that the next month
 * lacks falls back to its last day (31 January → 28 or 29 February), as EU Regulation 1182/71 reads.
 */
export function dsrDueDate(receivedAt: number): number {
  const d = new Date(receivedAt)
  const y = d.getUTCFullYear()
  const m = d.getUTCMonth() + 1
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate()
  return Date.UTC(
    y,
    m,
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  )
}

export interface NewDsr {
  id?: string
  /** When it was received, if before now (a request queued by the page and recorded by a job). */
  receivedAt?: number
  contactId: string | null
  kind: DsrKind
  /** Received now; `verified` and `completed` as far as the self-service step already went. */
  verified?: boolean
  completed?: boolean
  details?: Record<string, unknown>
}

/**
 * The insert of a self-service request and its daily counter (src/domain/platform/counters.ts), for
 * the atomic unit that carries out (or starts) it.
 */
export function selfServiceDsrQuery(
  deps: Pick<Deps, 'db' | 'clock'>,
  dsr: NewDsr,
): { id: string; queries: CompiledQuery[] } {
  const now = dsr.receivedAt ?? deps.clock.now()
  const id = dsr.id ?? crypto.randomUUID()
  const row: DsrRow = {
    id,
    contact_id: dsr.contactId,
    kind: dsr.kind,
    channel: 'self_service',
    received_at: now,
    verified_at: dsr.verified || dsr.completed ? now : null,
    due_at: dsrDueDate(now),
    completed_at: dsr.completed ? now : null,
    handled_by: dsr.completed ? SELF_SERVICE : null,
    details: JSON.stringify(dsr.details ?? {}),
    extended_at: null,
    extension_months: null,
    extension_reason: null,
    reply_email_enc: null,
  }
  return { id, queries: insertDsrQueries(deps.db, row) }
}

/** A request's insert, counted in `dsr_received` once (the counter first: it checks the id is new). */
export const insertDsrQueries = (db: Pick<Deps, 'db'>['db'], row: DsrRow): CompiledQuery[] => [
  dsrReceivedQuery(row),
  insertDsrQuery(db, row),
]

/** Completes a request served by the person themself (opening the page, confirming the new address). */
export function completeSelfServiceQuery(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
): CompiledQuery {
  return completeDsrQuery(deps.db, id, deps.clock.now(), SELF_SERVICE)
}

/** A request id derived from another one: the export made from an access link is recorded once. */
export const derivedDsrId = (parentId: string, kind: DsrKind) => `${parentId}.${kind}`

export interface DsrView {
  id: string
  kind: DsrKind
  channel: string
  receivedAt: string
  verifiedAt: string | null
  dueAt: string
  completedAt: string | null
  handledBy: string | null
  details: Record<string, unknown>
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function toView(row: DsrRow): DsrView {
  return {
    id: row.id,
    kind: row.kind,
    channel: row.channel,
    receivedAt: iso(row.received_at)!,
    verifiedAt: iso(row.verified_at),
    dueAt: iso(row.due_at)!,
    completedAt: iso(row.completed_at),
    handledBy: row.handled_by,
    details: JSON.parse(row.details) as Record<string, unknown>,
  }
}

/** A contact's requests, newest first (shown on /me and in the export). */
export async function contactRequests(
  deps: Pick<Deps, 'db'>,
  contactId: string,
): Promise<DsrView[]> {
  return (await listDsrForContact(deps.db, contactId)).map(toView)
}

/** Every request, for the admin: `{ open: true }` lists those still to answer, soonest deadline first. */
export async function listRequests(
  deps: Pick<Deps, 'db'>,
  filter: DsrFilter = {},
): Promise<DsrView[]> {
  return (await listDsrRequests(deps.db, filter)).map((r) => ({
    ...toView(r),
    contactId: r.contact_id,
  }))
}
