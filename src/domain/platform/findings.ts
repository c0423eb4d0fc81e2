/**
 * @module Compliance findings: what a check found wrong, for a DPO to see and close. The Mautic
 * connector opens one per contact (a marketing send without valid consent, a consent claimed in Mautic
 * without proof, a Mautic contact with no recorded proof, a bounce); the monitor
 * (src/domain/operations/monitor.ts) opens one per subject while its condition holds and closes it
 * when the condition is gone (`reconcileFindings`), and alerts name each at most once a day.
 */
import type { CompiledQuery } from 'kysely'
import type { FindingKind, FindingSeverity } from '../../db/database.ts'
import {
  countOpenFindingsByKind,
  findFinding,
  listFindingRows,
  listFindings as findingRows,
  openSubjectFindingQuery,
  openSubjectFindings,
  resolveFindingQuery,
  updateFindingQuery,
  type FindingFilter,
  type FindingRow,
} from '../../db/repositories/findings.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'

export type { FindingKind, FindingSeverity, FindingRow }

/** The Mautic connector's kinds: one finding per contact, closed by staff or by the connector. */
export const CONTACT_FINDING_KINDS = [
  'send_without_consent',
  'unproven_consent_claim',
  'no_proof',
  'bounced',
] as const satisfies readonly FindingKind[]

/** The monitor's kinds: one finding per subject, opened and closed by its checks. */
export const MONITOR_FINDING_KINDS = [
  'blocked_send_attempts',
  'dsr_due_soon',
  'dsr_overdue',
  'reconsent_pending',
  'admin_without_second_factor',
  'webhook_silent',
  'webhook_unpublished',
  'outbox_dead_letters',
  'backup_stale',
  'chain_broken',
  'review_due',
] as const satisfies readonly FindingKind[]

export const FINDING_KINDS: readonly FindingKind[] = [
  ...CONTACT_FINDING_KINDS,
  ...MONITOR_FINDING_KINDS,
]

export const isFindingKind = (v: unknown): v is FindingKind =>
  typeof v === 'string' && (FINDING_KINDS as readonly string[]).includes(v)

/**
 * The kinds alerts go out for (mail, webhook): every monitor kind, and a marketing send without
 * consent. `no_proof` (a whole Mautic sync's worth at once), `bounced` and `unproven_consent_claim`
 * are for the console only.
 */
export const ALERT_FINDING_KINDS: readonly FindingKind[] = [
  'send_without_consent',
  ...MONITOR_FINDING_KINDS,
]

/** Findings oldest first, their details parsed. */
export async function listFindings(
  deps: Pick<Deps, 'db'>,
  opts: { open?: boolean; kind?: FindingKind } = {},
) {
  const rows = await findingRows(deps.db, opts)
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown }))
}

export interface FindingView {
  id: string
  kind: FindingKind
  subject: string | null
  severity: FindingSeverity
  status: 'open' | 'closed'
  contact_id: string | null
  mautic_id: string | null
  purpose_key: string | null
  details: Record<string, unknown>
  opened_at: string
  updated_at: string | null
  closed_at: string | null
  resolution: string | null
  alerted_at: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function findingView(r: FindingRow): FindingView {
  return {
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    severity: r.severity,
    status: r.resolved_at === null ? 'open' : 'closed',
    contact_id: r.contact_id,
    mautic_id: r.mautic_id,
    purpose_key: r.purpose_key,
    details: JSON.parse(r.details) as Record<string, unknown>,
    opened_at: iso(r.created_at)!,
    updated_at: iso(r.updated_at),
    closed_at: iso(r.resolved_at),
    resolution: r.resolution,
    alerted_at: iso(r.alerted_at),
  }
}

/** Open findings (most severe, then oldest, first), or closed ones (newest first), or all. */
export async function findingList(
  deps: Pick<Deps, 'db'>,
  filter: FindingFilter = {},
): Promise<FindingView[]> {
  return (await listFindingRows(deps.db, filter)).map(findingView)
}

/** Open findings per kind, every kind named (zero when none): what /metrics and the console show. */
export async function openFindingsByKind(
  deps: Pick<Deps, 'db'>,
): Promise<Record<FindingKind, number>> {
  const counts = await countOpenFindingsByKind(deps.db)
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, counts.get(k) ?? 0])) as Record<
    FindingKind,
    number
  >
}

/** A condition a check found: a finding of this kind and subject is open while it holds. */
export interface Condition {
  kind: FindingKind
  subject: string
  severity: FindingSeverity
  details: Record<string, unknown>
  contactId?: string | null
  purposeKey?: string | null
}

export interface Reconciled {
  opened: number
  closed: number
  open: number
  queries: CompiledQuery[]
}

/**
 * The queries that make the open findings of `kinds` match `conditions`: a new condition opens a
 * finding, a held one updates its details and severity, a finding whose condition is gone closes
 * (`resolution`: why). The caller commits them (with whatever else its unit carries).
 */
export async function reconcileFindings(
  deps: Pick<Deps, 'db' | 'clock'>,
  kinds: readonly FindingKind[],
  conditions: Condition[],
  resolution: (row: FindingRow) => string = () => 'condition_cleared',
): Promise<Reconciled> {
  const now = deps.clock.now()
  const open = await openSubjectFindings(deps.db, kinds)
  const byKey = new Map(open.map((r) => [`${r.kind}\u0000${r.subject}`, r]))
  const held = new Set<string>()
  const out: Reconciled = { opened: 0, closed: 0, open: 0, queries: [] }
  for (const c of conditions) {
    const key = `${c.kind}\u0000${c.subject}`
    if (held.has(key)) continue
    held.add(key)
    const details = JSON.stringify(c.details)
    const row = byKey.get(key)
    if (!row) {
      out.opened++
      out.queries.push(
        openSubjectFindingQuery(deps.db, {
          id: uuidv7(now),
          kind: c.kind,
          subject: c.subject,
          severity: c.severity,
          contact_id: c.contactId ?? null,
          mautic_id: null,
          purpose_key: c.purposeKey ?? null,
          details,
          created_at: now,
          updated_at: now,
          resolved_at: null,
          resolution: null,
          alerted_at: null,
        }),
      )
    } else if (row.severity !== c.severity || row.details !== details)
      out.queries.push(
        updateFindingQuery(deps.db, row.id, { severity: c.severity, details, updated_at: now }),
      )
  }
  for (const [key, row] of byKey)
    if (!held.has(key)) {
      out.closed++
      out.queries.push(resolveFindingQuery(deps.db, row.id, resolution(row), now))
    }
  out.open = held.size
  return out
}

/** Staff close a finding by hand (a send without consent dealt with, say), saying why. */
export async function closeFinding(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  resolution: string,
): Promise<{ ok: true; query: CompiledQuery } | { ok: false; code: 'not_found' | 'closed' }> {
  const row = await findFinding(deps.db, id)
  if (!row) return { ok: false, code: 'not_found' }
  if (row.resolved_at !== null) return { ok: false, code: 'closed' }
  return {
    ok: true,
    query: resolveFindingQuery(deps.db, id, resolution.slice(0, 500), deps.clock.now()),
  }
}
