/**
 * @module The data inventory (GDPR Art. 30(1)(c), step 1 "map your data"): every personal-data field,
 * from Mautic (`GET /api/fields/contact`), from the gateway itself, or added by hand, with its category,
 * purpose, legal basis, retention period and the processors that receive it. Imports only suggest a
 * category (classify.ts); a field is classified when a person confirms it (`classifyField`), and
 * until then the risk report lists it. A field gone from its source is kept, marked removed.
 */
import type { CompiledQuery } from 'kysely'
import type { FieldCategory, LegalBasis } from '../../db/database.ts'
import {
  fieldProcessors,
  findDataField,
  insertDataFieldQuery,
  listDataFields,
  setFieldProcessorsQueries,
  updateDataFieldQuery,
  type DataFieldRow,
  type FieldFilter,
} from '../../db/repositories/inventory.ts'
import { listProcessorRows } from '../../db/repositories/processors.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { suggestCategory, type FieldSuggestion } from './classify.ts'
import { refreshRisks } from './risks.ts'

export const LEGAL_BASES: readonly LegalBasis[] = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
  'legitimate_interest',
]

export interface SourceField {
  name: string
  label: string
  type: string
}

/**
 * What the gateway itself holds about a contact (migrations/0001_init.sql, 0002, 0005): the address
 * and the attributes the data pages edit or Mautic sends, the language, the consent evidence, the
 * ledger, objections, the suppression list and the requests.
 */
export const GATEWAY_FIELDS: readonly SourceField[] = [
  { name: 'email', label: 'E-mail address (encrypted, with a keyed blind index)', type: 'email' },
  { name: 'locale', label: 'Language of the pages and mails', type: 'locale' },
  { name: 'first_name', label: 'First name', type: 'text' },
  { name: 'last_name', label: 'Last name', type: 'text' },
  { name: 'company', label: 'Company', type: 'text' },
  { name: 'phone', label: 'Phone', type: 'tel' },
  { name: 'mobile', label: 'Mobile', type: 'tel' },
  { name: 'country', label: 'Country', type: 'country' },
  { name: 'evidence_ip', label: 'IP address recorded with a consent', type: 'ip' },
  {
    name: 'evidence_user_agent',
    label: 'Browser (user agent) recorded with a consent',
    type: 'text',
  },
  { name: 'consent_history', label: 'Consent events per purpose (the ledger)', type: 'ledger' },
  { name: 'objected_at', label: 'Objection to direct marketing (Art. 21)', type: 'datetime' },
  { name: 'suppression_hash', label: 'Keyed hash of an erased or objecting address', type: 'hash' },
  { name: 'data_requests', label: 'Data-subject requests and their dates', type: 'record' },
]

export interface FieldView {
  id: string
  source: DataFieldRow['source']
  name: string
  label: string
  type: string
  /** pending: awaiting a person's confirmation. */
  status: 'pending' | 'confirmed'
  suggestion: FieldSuggestion
  category: FieldCategory | null
  purpose: string | null
  legal_basis: LegalBasis | null
  retention_days: number | null
  special_condition: string | null
  processors: string[]
  notes: string | null
  confirmed_at: string | null
  confirmed_by: string | null
  reviewed_at: string | null
  review_note: string | null
  removed_at: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function toView(row: DataFieldRow, processors: string[]): FieldView {
  return {
    id: row.id,
    source: row.source,
    name: row.name,
    label: row.label,
    type: row.type,
    status: row.confirmed_at === null ? 'pending' : 'confirmed',
    suggestion: JSON.parse(row.suggestion) as FieldSuggestion,
    category: row.category,
    purpose: row.purpose,
    legal_basis: row.legal_basis,
    retention_days: row.retention_days,
    special_condition: row.special_condition,
    processors,
    notes: row.notes,
    confirmed_at: iso(row.confirmed_at),
    confirmed_by: row.confirmed_by,
    reviewed_at: iso(row.reviewed_at),
    review_note: row.review_note,
    removed_at: iso(row.removed_at),
  }
}

/** The inventory, filtered (the screen's list); fields gone from their source only when asked. */
export async function listInventory(
  deps: Pick<Deps, 'db'>,
  filter: FieldFilter = {},
): Promise<FieldView[]> {
  const [rows, links] = await Promise.all([
    listDataFields(deps.db, filter),
    fieldProcessors(deps.db),
  ])
  return rows.map((r) => toView(r, links.get(r.id) ?? []))
}

export async function getField(deps: Pick<Deps, 'db'>, id: string): Promise<FieldView | null> {
  const row = await findDataField(deps.db, id)
  if (!row) return null
  return toView(row, (await fieldProcessors(deps.db)).get(id) ?? [])
}

export interface ImportReport {
  added: number
  updated: number
  removed: number
  /** Fields of this source awaiting a person's confirmation after the import. */
  pending: number
}

/**
 * Brings one source's fields into the inventory: new ones with a suggestion, known ones with their
 * label, type and suggestion refreshed (a confirmed classification is left as the person set it), and
 * those no longer listed marked removed. One atomic unit.
 */
export async function importFields(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  source: 'mautic' | 'gateway',
  fields: readonly SourceField[],
): Promise<ImportReport> {
  const now = deps.clock.now()
  const existing = new Map(
    (await listDataFields(deps.db, { source, includeRemoved: true })).map((r) => [r.name, r]),
  )
  const queries: CompiledQuery[] = []
  const report: ImportReport = { added: 0, updated: 0, removed: 0, pending: 0 }
  const seen = new Set<string>()
  for (const f of fields) {
    if (seen.has(f.name)) continue
    seen.add(f.name)
    const suggestion = suggestCategory(f)
    const row = existing.get(f.name)
    if (!row) {
      report.added++
      report.pending++
      queries.push(
        insertDataFieldQuery(deps.db, {
          ...emptyField(uuidv7(now), source, f, now),
          suggested_category: suggestion.category,
          suggestion: JSON.stringify(suggestion),
        }),
      )
      continue
    }
    if (row.confirmed_at === null) report.pending++
    const suggestionJson = JSON.stringify(suggestion)
    if (
      row.label !== f.label ||
      row.type !== f.type ||
      row.suggestion !== suggestionJson ||
      row.removed_at !== null
    ) {
      report.updated++
      queries.push(
        updateDataFieldQuery(deps.db, row.id, {
          label: f.label,
          type: f.type,
          suggested_category: suggestion.category,
          suggestion: suggestionJson,
          removed_at: null,
          updated_at: now,
        }),
      )
    }
  }
  for (const row of existing.values())
    if (!seen.has(row.name) && row.removed_at === null) {
      report.removed++
      queries.push(updateDataFieldQuery(deps.db, row.id, { removed_at: now, updated_at: now }))
    }
  if (queries.length > 0) await deps.atomic(queries)
  await refreshRisks(deps)
  return report
}

function emptyField(id: string, source: DataFieldRow['source'], f: SourceField, now: number) {
  return {
    id,
    source,
    name: f.name,
    label: f.label,
    type: f.type,
    suggested_category: null,
    suggestion: '{}',
    category: null,
    purpose: null,
    legal_basis: null,
    retention_days: null,
    special_condition: null,
    notes: null,
    confirmed_at: null,
    confirmed_by: null,
    reviewed_at: null,
    review_note: null,
    removed_at: null,
    created_at: now,
    updated_at: now,
  } satisfies DataFieldRow
}

/** Mautic's contact fields (`GET /api/fields/contact`), when Mautic is connected. */
export async function importMauticFields(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'mautic'>,
): Promise<ImportReport | null> {
  if (!deps.mautic) return null
  const fields = await deps.mautic.listFields()
  return importFields(
    deps,
    'mautic',
    fields
      .filter((f) => f.object === 'lead')
      .map((f) => ({ name: f.alias, label: f.label || f.alias, type: f.type })),
  )
}

export const importGatewayFields = (deps: Pick<Deps, 'db' | 'atomic' | 'clock'>) =>
  importFields(deps, 'gateway', GATEWAY_FIELDS)

/** Both sources (Mautic only when connected). */
export async function refreshInventory(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'mautic'>,
): Promise<{ gateway: ImportReport; mautic: ImportReport | null }> {
  const gateway = await importGatewayFields(deps)
  const mautic = await importMauticFields(deps)
  return { gateway, mautic }
}

export interface Classification {
  category: FieldCategory
  purpose?: string | null
  legal_basis?: LegalBasis | null
  retention_days?: number | null
  /** The Art. 9(2) condition relied on, for special categories (e.g. "Art. 9(2)(a) explicit consent"). */
  special_condition?: string | null
  processors?: string[]
  notes?: string | null
}

export type ClassifyResult =
  | { ok: true; field: FieldView }
  | { ok: false; code: 'not_found' | 'unknown_processor'; message: string }

/** A person confirms (or corrects) a field's classification: this is what classifies it. */
export async function classifyField(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  id: string,
  input: Classification,
  actor: string,
): Promise<ClassifyResult> {
  const row = await findDataField(deps.db, id)
  if (!row) return { ok: false, code: 'not_found', message: 'No field with this id' }
  const processorIds = [...new Set(input.processors ?? [])]
  const known = new Set((await listProcessorRows(deps.db)).map((p) => p.id))
  const unknown = processorIds.find((p) => !known.has(p))
  if (unknown)
    return { ok: false, code: 'unknown_processor', message: `No active processor ${unknown}` }
  const now = deps.clock.now()
  await deps.atomic([
    updateDataFieldQuery(deps.db, id, {
      category: input.category,
      purpose: input.purpose ?? null,
      legal_basis: input.legal_basis ?? null,
      retention_days: input.retention_days ?? null,
      special_condition: input.special_condition ?? null,
      notes: input.notes ?? null,
      confirmed_at: now,
      confirmed_by: actor,
      updated_at: now,
    }),
    ...setFieldProcessorsQueries(deps.db, id, processorIds),
  ])
  await refreshRisks(deps)
  return { ok: true, field: (await getField(deps, id))! }
}

/** A person looked at what a free-text field holds (no special data slipping in), and says so. */
export async function reviewField(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  id: string,
  note: string,
  actor: string,
): Promise<FieldView | null> {
  const row = await findDataField(deps.db, id)
  if (!row) return null
  const now = deps.clock.now()
  await deps.atomic([
    updateDataFieldQuery(deps.db, id, {
      reviewed_at: now,
      review_note: `${note} (${actor})`.trim(),
      updated_at: now,
    }),
  ])
  await refreshRisks(deps)
  return getField(deps, id)
}

export type AddFieldResult =
  { ok: true; field: FieldView } | { ok: false; code: 'field_exists'; message: string }

/** A field held elsewhere (a paper form, another tool), added by hand; it gets a suggestion too. */
export async function addManualField(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  field: SourceField,
): Promise<AddFieldResult> {
  const existing = await listDataFields(deps.db, { source: 'manual', includeRemoved: true })
  if (existing.some((r) => r.name === field.name))
    return { ok: false, code: 'field_exists', message: `A field "${field.name}" already exists` }
  const now = deps.clock.now()
  const suggestion = suggestCategory(field)
  const id = uuidv7(now)
  await deps.atomic([
    insertDataFieldQuery(deps.db, {
      ...emptyField(id, 'manual', field, now),
      suggested_category: suggestion.category,
      suggestion: JSON.stringify(suggestion),
    }),
  ])
  await refreshRisks(deps)
  return { ok: true, field: (await getField(deps, id))! }
}

/** A field added by hand is no longer held: kept for the record, out of the report. */
export async function removeManualField(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  id: string,
): Promise<boolean> {
  const row = await findDataField(deps.db, id)
  if (!row || row.source !== 'manual' || row.removed_at !== null) return false
  const now = deps.clock.now()
  await deps.atomic([updateDataFieldQuery(deps.db, id, { removed_at: now, updated_at: now })])
  await refreshRisks(deps)
  return true
}
