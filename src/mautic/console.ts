/**
 * @module What the console's integration screen asks of the Mautic connector (README "Connecting
 * Mautic"): a connection test, what enforce mode would change (the changes observe mode keeps per
 * Mautic contact), and the switch between observe and enforce. Switching to enforce queues the kept
 * changes to be written (the mirror re-plans each contact at delivery, so nothing stale is written);
 * past MAX_QUEUED_ON_SWITCH contacts, a sync catches up on the rest.
 */
import type { CompiledQuery } from 'kysely'
import type { MirrorMode } from '../config.ts'
import { countPendingMirrors, listPendingMirrors } from '../db/repositories/mautic.ts'
import type { Deps } from '../deps.ts'
import type { Actor } from '../domain/admin/accounts.ts'
import { recordAudit } from '../domain/admin/audit.ts'
import { enqueueQuery } from '../domain/platform/outbox.ts'
import { mirrorMode, setMirrorModeQuery } from '../domain/platform/settings.ts'
import { explainMauticError, NOT_CONFIGURED } from './connect.ts'
import { mauticOrderingKey } from './intake.ts'
import type { Change } from './mirror.ts'
import { MauticError } from './types.ts'

/** Contacts whose kept changes are queued when enforce is switched on; a sync does the rest. */
export const MAX_QUEUED_ON_SWITCH = 5_000
const PREVIEW_SAMPLE = 1_000

/** Whether Mautic answers with these credentials (its webhooks list: what the gateway needs first). */
export async function testMauticConnection(
  deps: Pick<Deps, 'config' | 'mautic'>,
): Promise<{ ok: true; webhooks: number } | { ok: false; error: string }> {
  if (!deps.config.mautic || !deps.mautic) return { ok: false, error: NOT_CONFIGURED }
  try {
    await deps.mautic.checkAccess()
    return { ok: true, webhooks: (await deps.mautic.listWebhooks()).length }
  } catch (err) {
    if (err instanceof MauticError) return { ok: false, error: explainMauticError(err) }
    throw err
  }
}

export interface EnforcePreview {
  mode: MirrorMode
  /** Mautic contacts with changes kept (counted up to a cap). */
  contacts: number
  capped: boolean
  /** Of the first PREVIEW_SAMPLE of them: how many changes of each kind. */
  sampled: number
  byOp: { op: Change['op'] | 'tag_add' | 'tag_remove'; count: number }[]
  examples: { mauticId: string; contactId: string | null; changes: string[] }[]
}

const describe = (c: Change) =>
  c.op === 'add_dnc'
    ? `add_dnc(${c.reason})`
    : c.op === 'remove_dnc'
      ? 'remove_dnc'
      : c.op === 'tag'
        ? `${c.present ? '+' : '-'}${c.tag}`
        : `${c.alias}=${typeof c.value === 'string' ? '…' : String(c.value)}`

/** What enforce mode would write to Mautic now: the changes observe mode kept. */
export async function enforcePreview(deps: Pick<Deps, 'db' | 'config'>): Promise<EnforcePreview> {
  const cap = 100_000
  const [mode, contacts, sample] = await Promise.all([
    mirrorMode(deps),
    countPendingMirrors(deps.db, cap),
    listPendingMirrors(deps.db, PREVIEW_SAMPLE),
  ])
  const byOp = new Map<string, number>()
  const examples: EnforcePreview['examples'] = []
  for (const row of sample) {
    const changes = JSON.parse(row.pending_changes ?? '[]') as Change[]
    for (const c of changes) {
      const op = c.op === 'tag' ? (c.present ? 'tag_add' : 'tag_remove') : c.op
      byOp.set(op, (byOp.get(op) ?? 0) + 1)
    }
    if (examples.length < 20)
      examples.push({
        mauticId: row.mautic_id,
        contactId: row.contact_id,
        changes: changes.map(describe),
      })
  }
  return {
    mode,
    contacts,
    capped: contacts >= cap,
    sampled: sample.length,
    byOp: [...byOp].map(([op, count]) => ({
      op: op as EnforcePreview['byOp'][number]['op'],
      count,
    })),
    examples,
  }
}

/**
 * Sets the mirror mode (over MIRROR_MODE), audited with its reason; to enforce, the kept changes are
 * queued to be written.
 */
export async function switchMirrorMode(
  deps: Deps,
  mode: MirrorMode,
  by: Actor & { reason: string },
): Promise<{ ok: true; queued: number; more: boolean } | { ok: false; code: 'missing_reason' }> {
  if (!by.reason.trim()) return { ok: false, code: 'missing_reason' }
  const now = deps.clock.now()
  await recordAudit(
    deps,
    { ...by, action: 'mautic.mirror_mode', details: { mode, reason: by.reason } },
    [setMirrorModeQuery(deps, mode, by.actor)],
  )
  let queued = 0
  let more = false
  if (mode === 'enforce' && deps.mautic) {
    let after = ''
    while (queued < MAX_QUEUED_ON_SWITCH) {
      const rows = await listPendingMirrors(deps.db, 200, after)
      if (rows.length === 0) break
      const queries: CompiledQuery[] = rows.map((r) =>
        enqueueQuery(deps.db, now, {
          kind: 'mautic.mirror',
          payload: r.contact_id
            ? { contactId: r.contact_id, mauticId: r.mautic_id }
            : { mauticId: r.mautic_id },
          orderingKey: mauticOrderingKey(r.mautic_id),
        }),
      )
      await deps.atomic(queries)
      queued += rows.length
      after = rows.at(-1)!.mautic_id
    }
    more = queued >= MAX_QUEUED_ON_SWITCH
  }
  return { ok: true, queued, more }
}
