/**
 * @module The processors register (GDPR Art. 28, 30(1)(d)-(e), step 4 "control third parties"): each
 * processor or other recipient with its role, the data categories it receives, its country and the
 * basis of a transfer outside the EEA (Art. 44-49), the date of its data processing agreement
 * (Art. 28(3)) and of its last security review, and where corrections and erasures reach it (Art. 19):
 * a webhook signed with the Standard Webhooks scheme, whose secret is shown once, or tasks for staff.
 */
import type { FieldCategory, ProcessorRole, TransferBasis } from '../../db/database.ts'
import {
  findProcessor,
  insertProcessorQuery,
  listProcessorRows,
  updateProcessorQuery,
  type ProcessorRow,
} from '../../db/repositories/processors.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { newWebhookSecret } from '../../lib/standard-webhooks.ts'
import { isThirdCountry } from './countries.ts'
import { refreshRisks } from './risks.ts'

export const PROCESSOR_ROLES: readonly ProcessorRole[] = [
  'processor',
  'sub_processor',
  'joint_controller',
  'recipient',
]
export const TRANSFER_BASES: readonly TransferBasis[] = ['adequacy', 'scc', 'bcr', 'derogation']

export interface ProcessorView {
  id: string
  name: string
  role: ProcessorRole
  data_categories: FieldCategory[]
  country: string
  third_country: boolean
  transfer_basis: TransferBasis | null
  contract_signed_at: string | null
  last_review_at: string | null
  webhook_url: string | null
  /** Corrections and erasures: by webhook, as tasks for staff, or not passed on at all. */
  rights_channel: 'webhook' | 'task' | 'none'
  notes: string | null
  created_at: string
  updated_at: string
  archived_at: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function processorView(row: ProcessorRow): ProcessorView {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    data_categories: JSON.parse(row.data_categories) as FieldCategory[],
    country: row.country,
    third_country: isThirdCountry(row.country),
    transfer_basis: row.transfer_basis,
    contract_signed_at: iso(row.contract_signed_at),
    last_review_at: iso(row.last_review_at),
    webhook_url: row.webhook_url,
    rights_channel: row.notify_rights === 0 ? 'none' : row.webhook_url ? 'webhook' : 'task',
    notes: row.notes,
    created_at: iso(row.created_at)!,
    updated_at: iso(row.updated_at)!,
    archived_at: iso(row.archived_at),
  }
}

export interface ProcessorInput {
  name?: string
  role?: ProcessorRole
  data_categories?: FieldCategory[]
  /** ISO 3166-1 alpha-2. */
  country?: string
  transfer_basis?: TransferBasis | null
  /** Epoch milliseconds. */
  contract_signed_at?: number | null
  last_review_at?: number | null
  webhook_url?: string | null
  notify_rights?: boolean
  notes?: string | null
}

export type ProcessorResult =
  | { ok: true; processor: ProcessorView; webhook_secret?: string }
  | { ok: false; code: 'not_found' | 'invalid_webhook_url' | 'invalid_country'; message: string }

const secretAad = (id: string) => `processors.webhook_secret:${id}`

function checkInput(input: ProcessorInput, production: boolean) {
  if (input.country !== undefined && !/^[A-Za-z]{2}$/.test(input.country))
    return {
      code: 'invalid_country' as const,
      message: 'country must be an ISO 3166-1 two-letter code',
    }
  if (input.webhook_url) {
    let url: URL | undefined
    try {
      url = new URL(input.webhook_url)
    } catch {
      url = undefined
    }
    // Personal data leaves by this URL: https only, but for a development machine.
    const ok = url && (url.protocol === 'https:' || (!production && url.protocol === 'http:'))
    if (!ok)
      return {
        code: 'invalid_webhook_url' as const,
        message: 'webhook_url must be an https:// URL',
      }
  }
  return null
}

export async function listProcessors(
  deps: Pick<Deps, 'db'>,
  opts: { includeArchived?: boolean } = {},
): Promise<ProcessorView[]> {
  return (await listProcessorRows(deps.db, opts)).map(processorView)
}

export async function getProcessor(
  deps: Pick<Deps, 'db'>,
  id: string,
): Promise<ProcessorView | null> {
  const row = await findProcessor(deps.db, id)
  return row ? processorView(row) : null
}

/** Registers a processor; with a webhook, its new secret is returned once (store it at the receiver). */
export async function createProcessor(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'keys' | 'config'>,
  input: ProcessorInput & Required<Pick<ProcessorInput, 'name' | 'role' | 'country'>>,
): Promise<ProcessorResult> {
  const bad = checkInput(input, deps.config.production)
  if (bad) return { ok: false, ...bad }
  const now = deps.clock.now()
  const id = uuidv7(now)
  const secret = input.webhook_url ? newWebhookSecret() : undefined
  await deps.atomic([
    insertProcessorQuery(deps.db, {
      id,
      name: input.name,
      role: input.role,
      data_categories: JSON.stringify(input.data_categories ?? []),
      country: input.country.toUpperCase(),
      transfer_basis: input.transfer_basis ?? null,
      contract_signed_at: input.contract_signed_at ?? null,
      last_review_at: input.last_review_at ?? null,
      webhook_url: input.webhook_url ?? null,
      webhook_secret_enc: secret ? await encryptField(deps.keys, secret, secretAad(id)) : null,
      notify_rights: input.notify_rights === false ? 0 : 1,
      notes: input.notes ?? null,
      created_at: now,
      updated_at: now,
      archived_at: null,
    }),
  ])
  await refreshRisks(deps)
  const processor = (await getProcessor(deps, id))!
  return secret ? { ok: true, processor, webhook_secret: secret } : { ok: true, processor }
}

/**
 * Changes what is given; a webhook set where there was none gets a new secret (returned once). An
 * archived processor is no longer passed corrections and erasures, and leaves the report.
 */
export async function updateProcessor(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'keys' | 'config'>,
  id: string,
  input: ProcessorInput & { archived?: boolean },
): Promise<ProcessorResult> {
  const row = await findProcessor(deps.db, id)
  if (!row) return { ok: false, code: 'not_found', message: 'No processor with this id' }
  const bad = checkInput(input, deps.config.production)
  if (bad) return { ok: false, ...bad }
  const now = deps.clock.now()
  const secret = input.webhook_url && !row.webhook_secret_enc ? newWebhookSecret() : undefined
  const set = <K extends keyof ProcessorInput>(k: K) => input[k] !== undefined
  await deps.atomic([
    updateProcessorQuery(deps.db, id, {
      ...(set('name') && { name: input.name }),
      ...(set('role') && { role: input.role }),
      ...(set('data_categories') && { data_categories: JSON.stringify(input.data_categories) }),
      ...(set('country') && { country: input.country!.toUpperCase() }),
      ...(set('transfer_basis') && { transfer_basis: input.transfer_basis }),
      ...(set('contract_signed_at') && { contract_signed_at: input.contract_signed_at }),
      ...(set('last_review_at') && { last_review_at: input.last_review_at }),
      ...(set('webhook_url') && { webhook_url: input.webhook_url }),
      ...(input.webhook_url === null && { webhook_secret_enc: null }),
      ...(secret && { webhook_secret_enc: await encryptField(deps.keys, secret, secretAad(id)) }),
      ...(set('notify_rights') && { notify_rights: input.notify_rights ? 1 : 0 }),
      ...(set('notes') && { notes: input.notes }),
      ...(input.archived !== undefined && { archived_at: input.archived ? now : null }),
      updated_at: now,
    }),
  ])
  await refreshRisks(deps)
  const processor = (await getProcessor(deps, id))!
  return secret ? { ok: true, processor, webhook_secret: secret } : { ok: true, processor }
}

/** A new webhook secret (the old one stops verifying at once); shown once. */
export async function rotateWebhookSecret(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'keys'>,
  id: string,
): Promise<string | null> {
  const row = await findProcessor(deps.db, id)
  if (!row || !row.webhook_url) return null
  const secret = newWebhookSecret()
  await deps.atomic([
    updateProcessorQuery(deps.db, id, {
      webhook_secret_enc: await encryptField(deps.keys, secret, secretAad(id)),
      updated_at: deps.clock.now(),
    }),
  ])
  return secret
}

/** The webhook secret in clear, to sign a delivery. */
export async function processorWebhookSecret(
  deps: Pick<Deps, 'keys'>,
  row: ProcessorRow,
): Promise<string | null> {
  return row.webhook_secret_enc
    ? decryptField(deps.keys, row.webhook_secret_enc, secretAad(row.id))
    : null
}
