/**
 * @module The risk report (step 1 "map your data and its risks"; GDPR Art. 5(2), 9, 28, 30, 44):
 * findings with a severity, each opened by `refreshRisks` when its condition appears and closed when it
 * is gone, so the report is also a history of what was put right and when. Kinds:
 * - `special_category` (high): special data (Art. 9, 10) with no Art. 9(2) condition recorded;
 * - `field_unconfirmed` (medium): a field whose classification no person has confirmed;
 * - `field_no_purpose`, `field_no_retention` (medium): a confirmed field without a purpose and legal
 *   basis, or without a retention period (Art. 5(1)(b), (e));
 * - `free_text` (low): a free-text field nobody has reviewed (people type anything, health included);
 * - `processor_no_contract` (high): data sent to a processor without a processing agreement (Art. 28(3));
 * - `transfer_without_basis` (high): a processor outside the EEA without a transfer basis (Art. 44-49);
 * - `processor_review_overdue` (low): no security review in the last year (Art. 28(1), 32);
 * - `contacts_without_proof` (high): Mautic contacts without proof of consent (`mautic sync`, Art. 7(1));
 * - `purpose_without_notice` (high): a purpose without a published wording in a language (Art. 7(2), 12).
 */
import type { CompiledQuery } from 'kysely'
import type { RiskSeverity } from '../../db/database.ts'
import { fieldProcessors, listDataFields } from '../../db/repositories/inventory.ts'
import { listProcessorRows } from '../../db/repositories/processors.ts'
import { listPublishedNotices, listPurposes } from '../../db/repositories/purposes.ts'
import {
  closeRiskQuery,
  countOpenFindings,
  listRiskFindings,
  openRiskFindings,
  openRiskQuery,
  updateRiskQuery,
  type RiskFilter,
} from '../../db/repositories/risks.ts'
import type { Deps } from '../../deps.ts'
import { LOCALES } from '../../lib/i18n.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { isThirdCountry } from './countries.ts'

export const RISK_KINDS = [
  'special_category',
  'field_unconfirmed',
  'field_no_purpose',
  'field_no_retention',
  'free_text',
  'processor_no_contract',
  'transfer_without_basis',
  'processor_review_overdue',
  'contacts_without_proof',
  'purpose_without_notice',
] as const
export type RiskKind = (typeof RISK_KINDS)[number]

export const SEVERITIES: readonly RiskSeverity[] = ['high', 'medium', 'low']

/** A processor's security review older than this is overdue. */
export const REVIEW_INTERVAL_MS = 365 * 86_400_000

interface Condition {
  kind: RiskKind
  subject: string
  severity: RiskSeverity
  details: Record<string, unknown>
}

/** Every condition that holds now (no writes). */
export async function currentRisks(deps: Pick<Deps, 'db' | 'clock'>): Promise<Condition[]> {
  const now = deps.clock.now()
  const [fields, links, processors, purposes, notices, noProof] = await Promise.all([
    listDataFields(deps.db),
    fieldProcessors(deps.db),
    listProcessorRows(deps.db),
    listPurposes(deps.db),
    listPublishedNotices(deps.db),
    countOpenFindings(deps.db, 'no_proof'),
  ])
  const out: Condition[] = []
  const add = (
    kind: RiskKind,
    subject: string,
    severity: RiskSeverity,
    details: Record<string, unknown>,
  ) => out.push({ kind, subject, severity, details })

  for (const f of fields) {
    const about = { field: f.name, source: f.source, label: f.label }
    const category = f.category ?? f.suggested_category
    if (category === 'special' && !f.special_condition)
      add('special_category', f.id, 'high', {
        ...about,
        confirmed: f.confirmed_at !== null,
        suggestion: JSON.parse(f.suggestion) as unknown,
      })
    if (f.confirmed_at === null) {
      add('field_unconfirmed', f.id, 'medium', { ...about, suggested: f.suggested_category })
      continue
    }
    if (!f.purpose || !f.legal_basis)
      add('field_no_purpose', f.id, 'medium', {
        ...about,
        purpose: f.purpose,
        legal_basis: f.legal_basis,
      })
    if (f.retention_days === null) add('field_no_retention', f.id, 'medium', about)
    if (f.category === 'free_text' && f.reviewed_at === null) add('free_text', f.id, 'low', about)
  }

  const receiving = new Map<string, string[]>()
  for (const f of fields)
    for (const p of links.get(f.id) ?? []) receiving.set(p, [...(receiving.get(p) ?? []), f.name])
  for (const p of processors) {
    const about = { processor: p.name, country: p.country }
    const fieldsSent = receiving.get(p.id) ?? []
    const receives = fieldsSent.length > 0 || (JSON.parse(p.data_categories) as []).length > 0
    if (receives && p.contract_signed_at === null)
      add('processor_no_contract', p.id, 'high', { ...about, fields: fieldsSent })
    if (isThirdCountry(p.country) && p.transfer_basis === null)
      add('transfer_without_basis', p.id, 'high', about)
    if (p.last_review_at === null || now - p.last_review_at > REVIEW_INTERVAL_MS)
      add('processor_review_overdue', p.id, 'low', {
        ...about,
        last_review_at: p.last_review_at === null ? null : new Date(p.last_review_at).toISOString(),
      })
  }

  if (noProof > 0) add('contacts_without_proof', 'mautic', 'high', { contacts: noProof })

  for (const purpose of purposes) {
    const published = new Set(
      notices
        .filter((n) => n.purpose_key === purpose.key && (n.published_at ?? Infinity) <= now)
        .map((n) => n.locale),
    )
    const missing = LOCALES.filter((l) => !published.has(l))
    if (missing.length > 0)
      add('purpose_without_notice', purpose.key, 'high', { purpose: purpose.key, missing })
  }
  return out
}

export interface RiskRefresh {
  opened: number
  closed: number
  open: number
}

/** Opens findings for new conditions, updates the open ones, closes those whose condition is gone. */
export async function refreshRisks(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
): Promise<RiskRefresh> {
  const now = deps.clock.now()
  const [conditions, open] = await Promise.all([currentRisks(deps), openRiskFindings(deps.db)])
  const openByKey = new Map(open.map((r) => [`${r.kind}\u0000${r.subject}`, r]))
  const queries: CompiledQuery[] = []
  const report: RiskRefresh = { opened: 0, closed: 0, open: conditions.length }
  const held = new Set<string>()
  for (const c of conditions) {
    const key = `${c.kind}\u0000${c.subject}`
    held.add(key)
    const details = JSON.stringify(c.details)
    const row = openByKey.get(key)
    if (!row) {
      report.opened++
      queries.push(
        openRiskQuery(deps.db, {
          id: uuidv7(now),
          kind: c.kind,
          subject: c.subject,
          severity: c.severity,
          details,
          opened_at: now,
          closed_at: null,
          updated_at: now,
        }),
      )
    } else if (row.severity !== c.severity || row.details !== details)
      queries.push(
        updateRiskQuery(deps.db, row.id, { severity: c.severity, details, updated_at: now }),
      )
  }
  for (const [key, row] of openByKey)
    if (!held.has(key)) {
      report.closed++
      queries.push(closeRiskQuery(deps.db, row.id, now))
    }
  if (queries.length > 0) await deps.atomic(queries)
  return report
}

export interface RiskView {
  id: string
  kind: string
  subject: string
  severity: RiskSeverity
  details: Record<string, unknown>
  status: 'open' | 'closed'
  opened_at: string
  closed_at: string | null
}

/** The report: open findings by severity (high first), or closed ones, or all. */
export async function listRisks(
  deps: Pick<Deps, 'db'>,
  filter: RiskFilter = {},
): Promise<RiskView[]> {
  return (await listRiskFindings(deps.db, filter)).map((r) => ({
    id: r.id,
    kind: r.kind,
    subject: r.subject,
    severity: r.severity,
    details: JSON.parse(r.details) as Record<string, unknown>,
    status: r.closed_at === null ? 'open' : 'closed',
    opened_at: new Date(r.opened_at).toISOString(),
    closed_at: r.closed_at === null ? null : new Date(r.closed_at).toISOString(),
  }))
}

/** Counts of open findings per severity (the dashboard's figure). */
export async function riskSummary(deps: Pick<Deps, 'db'>): Promise<Record<RiskSeverity, number>> {
  const open = await openRiskFindings(deps.db)
  const out: Record<RiskSeverity, number> = { high: 0, medium: 0, low: 0 }
  for (const r of open) out[r.severity]++
  return out
}
