/** @module Gate decisions for a batch of contact references, in input order, from one query. */
import {
  readGateFacts,
  readGateFactsOne,
  type GateRef,
  type GateRow,
} from '../db/repositories/gate.ts'
import { settle } from '../db/prepared.ts'
import type { Deps } from '../deps.ts'
import { blindIndexes, normalizeEmail } from '../lib/email.ts'
import { decide, type GateDecision, type GateFacts } from './gate.ts'
import { cachedPurposes, loadPurposes, type Purpose } from './purposes.ts'

export type ContactRef = { email: string } | { mautic_id: string | number } | { contact_id: string }

export type GateBatchResult =
  { ok: true; decisions: GateDecision[] } | { ok: false; code: 'unknown_purpose'; message: string }

export function factsFromRow(row: GateRow | undefined): GateFacts {
  if (!row || !row.contact_id)
    return { contactFound: false, suppressed: row?.suppressed === 1, objected: false, state: null }
  return {
    contactFound: true,
    suppressed: row.suppressed === 1 || row.contact_status === 'erased',
    objected: row.objected_at !== null,
    state: row.status
      ? {
          status: row.status,
          grantedAt: row.granted_at,
          noticeVersion: row.notice_version,
          noticeLocale: row.notice_locale,
        }
      : null,
  }
}

/** Turns API references into query references; an address that is not one can match nothing. */
async function toGateRef(deps: Pick<Deps, 'hmac' | 'keys'>, ref: ContactRef): Promise<GateRef> {
  if ('contact_id' in ref) return ['id', String(ref.contact_id), null]
  if ('mautic_id' in ref) return ['mautic', String(ref.mautic_id), null]
  const normalized = normalizeEmail(ref.email)
  if (!normalized) return ['id', '', null]
  const [current, previous] = await blindIndexes(deps.hmac, deps.keys, normalized)
  return ['email', current!, previous ?? null]
}

type GateDeps = Pick<Deps, 'db' | 'query' | 'queryOne' | 'hmac' | 'keys' | 'clock'>

/**
 * Decisions in input order. By contact id on Node it answers synchronously (purposes cached, one
 * prepared statement): the gate sits on every send, and a promise per decision is measurable there.
 */
export function gateBatch(
  deps: GateDeps,
  purposeKey: string,
  refs: ContactRef[],
): GateBatchResult | Promise<GateBatchResult> {
  const now = deps.clock.now()
  const purposes = cachedPurposes(deps.db, now)
  if (!purposes) return loadPurposes(deps.db, now).then(() => gateBatch(deps, purposeKey, refs))
  const purpose = purposes.get(purposeKey)
  if (!purpose)
    return { ok: false, code: 'unknown_purpose', message: `Unknown purpose "${purposeKey}"` }
  const only = refs.length === 1 ? refs[0]! : undefined
  if (only && 'contact_id' in only)
    return settle(readGateFactsOne(deps, purposeKey, ['id', only.contact_id, null]), (row) => ({
      ok: true as const,
      decisions: [decide(purpose, factsFromRow(row), now)],
    }))
  return gateRefs(deps, purpose, refs, now)
}

async function gateRefs(
  deps: GateDeps,
  purpose: Purpose,
  refs: ContactRef[],
  now: number,
): Promise<GateBatchResult> {
  // One address takes a single prepared query; a batch, one json_each query.
  const only = refs.length === 1 ? refs[0]! : undefined
  if (only && 'email' in only) {
    const row = await readGateFactsOne(deps, purpose.key, await toGateRef(deps, only))
    return { ok: true, decisions: [decide(purpose, factsFromRow(row), now)] }
  }
  const gateRefs = await Promise.all(refs.map((r) => toGateRef(deps, r)))
  const rows = await readGateFacts(deps.db, purpose.key, gateRefs)
  const byIdx = new Map(rows.map((r) => [r.idx, r]))
  return {
    ok: true,
    decisions: refs.map((_, i) => decide(purpose, factsFromRow(byIdx.get(i)), now)),
  }
}
