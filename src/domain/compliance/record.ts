/**
 * @module The record of processing activities (GDPR Art. 30(1)): the controller and its DPO, each
 * processing purpose with its legal bases, the categories of people and of data (special ones named),
 * the recipients and transfers outside the EEA with their safeguards, retention periods and the
 * security measures. Built from the confirmed inventory, the consent purposes and the processors
 * register, in French or English, as data (JSON, which a printable page renders) and as CSV.
 */
import type { FieldCategory, LegalBasis } from '../../db/database.ts'
import { fieldProcessors, listDataFields } from '../../db/repositories/inventory.ts'
import { listProcessorRows } from '../../db/repositories/processors.ts'
import { listPurposes } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { csvCell } from '../rights/data-export-csv.ts'
import { isThirdCountry } from './countries.ts'

/** The measures this gateway takes itself (Art. 30(1)(g), 32), by locale key. */
export const SECURITY_MEASURES = [
  'encryption',
  'blindIndex',
  'cryptoShredding',
  'ledger',
  'signedProof',
  'accessControl',
  'transport',
  'outbox',
] as const

export interface ActivityRecipient {
  id: string
  name: string
  role: string
  country: string
  third_country: boolean
  transfer_basis: string | null
  contract_signed_at: string | null
}

export interface ProcessingActivity {
  purpose: string
  legal_bases: LegalBasis[]
  data_subjects: string
  data_categories: FieldCategory[]
  special_categories: { field: string; condition: string | null }[]
  fields: { name: string; source: string; label: string; category: FieldCategory | null }[]
  recipients: ActivityRecipient[]
  transfers: { processor: string; country: string; basis: string | null }[]
  retention_days: number[]
  /** A consent purpose of the ledger (purposes table) this activity matches, if any. */
  consent_purpose: { key: string; channel: string; double_opt_in: boolean } | null
}

export interface ProcessingRecord {
  generated_at: string
  locale: Locale
  controller: { name: string; privacy_url: string | null; dpo_email: string | null }
  activities: ProcessingActivity[]
  /** Fields no person has confirmed yet: not in any activity until they are. */
  unconfirmed_fields: number
  security_measures: string[]
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export async function recordOfProcessing(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
  locale: Locale,
): Promise<ProcessingRecord> {
  const [fields, links, processors, purposes] = await Promise.all([
    listDataFields(deps.db),
    fieldProcessors(deps.db),
    listProcessorRows(deps.db),
    listPurposes(deps.db),
  ])
  const byId = new Map(processors.map((p) => [p.id, p]))
  const activities = new Map<string, ProcessingActivity>()
  const activity = (purpose: string): ProcessingActivity => {
    let a = activities.get(purpose)
    if (!a) {
      const consent = purposes.find((p) => p.key === purpose)
      a = {
        purpose,
        legal_bases: [],
        data_subjects: t(locale, 'compliance.record.subjects'),
        data_categories: [],
        special_categories: [],
        fields: [],
        recipients: [],
        transfers: [],
        retention_days: [],
        consent_purpose: consent
          ? {
              key: consent.key,
              channel: consent.channel,
              double_opt_in: consent.double_opt_in === 1,
            }
          : null,
      }
      activities.set(purpose, a)
    }
    return a
  }
  // Every consent purpose is an activity of its own, with its basis, even before fields name it.
  for (const p of purposes) {
    const a = activity(p.key)
    if (!a.legal_bases.includes(p.legal_basis)) a.legal_bases.push(p.legal_basis)
  }
  let unconfirmed = 0
  for (const f of fields) {
    if (f.confirmed_at === null) {
      unconfirmed++
      continue
    }
    const a = activity(f.purpose ?? t(locale, 'compliance.record.noPurpose'))
    if (f.legal_basis && !a.legal_bases.includes(f.legal_basis)) a.legal_bases.push(f.legal_basis)
    if (f.category && !a.data_categories.includes(f.category)) a.data_categories.push(f.category)
    if (f.category === 'special')
      a.special_categories.push({ field: f.name, condition: f.special_condition })
    a.fields.push({ name: f.name, source: f.source, label: f.label, category: f.category })
    if (f.retention_days !== null && !a.retention_days.includes(f.retention_days))
      a.retention_days.push(f.retention_days)
    for (const pid of links.get(f.id) ?? []) {
      const p = byId.get(pid)
      if (!p || a.recipients.some((r) => r.id === pid)) continue
      a.recipients.push({
        id: p.id,
        name: p.name,
        role: p.role,
        country: p.country,
        third_country: isThirdCountry(p.country),
        transfer_basis: p.transfer_basis,
        contract_signed_at: iso(p.contract_signed_at),
      })
      if (isThirdCountry(p.country))
        a.transfers.push({ processor: p.name, country: p.country, basis: p.transfer_basis })
    }
  }
  for (const a of activities.values()) a.retention_days.sort((x, y) => x - y)
  return {
    generated_at: new Date(deps.clock.now()).toISOString(),
    locale,
    controller: {
      name: deps.config.org.name,
      privacy_url: deps.config.org.privacyUrl ?? null,
      dpo_email: deps.config.dpo?.email ?? null,
    },
    activities: [...activities.values()],
    unconfirmed_fields: unconfirmed,
    security_measures: SECURITY_MEASURES.map((m) => t(locale, `compliance.security.${m}`)),
  }
}

/** The record as CSV: one row per activity, lists joined with " ; ", headers in the record's language. */
export function recordCsv(record: ProcessingRecord): string {
  const l = record.locale
  const h = (k: string) => t(l, `compliance.record.csv.${k}`)
  const list = (items: unknown[]) => items.map(String).join(' ; ')
  const rows: unknown[][] = [
    [
      h('controller'),
      h('dpo'),
      h('purpose'),
      h('legalBases'),
      h('subjects'),
      h('categories'),
      h('special'),
      h('fields'),
      h('recipients'),
      h('transfers'),
      h('retention'),
      h('security'),
    ],
  ]
  for (const a of record.activities)
    rows.push([
      record.controller.name,
      record.controller.dpo_email ?? '',
      a.purpose,
      list(a.legal_bases.map((b) => t(l, `compliance.basis.${b}`))),
      a.data_subjects,
      list(a.data_categories.map((c) => t(l, `compliance.category.${c}`))),
      list(a.special_categories.map((s) => `${s.field} (${s.condition ?? '?'})`)),
      list(a.fields.map((f) => f.name)),
      list(a.recipients.map((r) => `${r.name} (${r.country})`)),
      list(a.transfers.map((x) => `${x.processor} (${x.country}: ${x.basis ?? '?'})`)),
      list(a.retention_days.map((d) => t(l, 'compliance.record.days', { days: d }))),
      list(record.security_measures),
    ])
  return '\uFEFF' + rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n'
}
