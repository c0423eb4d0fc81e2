/** @module Gate decisions for a batch of contact references, in input order, from one query. */
import {
  readGateFacts,
  readGateFactsOne,
  type GateRef,
  type GateRow,
} from '../db/repositories/gate.ts'
import type { Deps } from '../deps.ts'
import { blindIndexes } from '../lib/email.ts'
import { normalizeEmail } from '../lib/email.ts'
import { decide, type GateDecision, type GateFacts } from './gate.ts'
import { cachedPurposes, loadPurposes } from './purposes.ts'

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

export async function gateBatch(
  deps: Pick<Deps, 'db' | 'query' | 'hmac' | 'keys' | 'clock'>,
  purposeKey: string,
  refs: ContactRef[],
): Promise<GateBatchResult> {
  const now = deps.clock.now()
  const purpose = (cachedPurposes(deps.db, now) ?? (await loadPurposes(deps.db, now))).get(
    purposeKey,
  )
  if (!purpose)
    return { ok: false, code: 'unknown_purpose', message: `Unknown purpose "${purposeKey}"` }
  // One recipient (the common case for a send) takes a single prepared query; a batch, one json_each query.
  const only = refs.length === 1 ? refs[0]! : undefined
  if (only && !('mautic_id' in only)) {
    const ref =
      'contact_id' in only
        ? (['id', only.contact_id, null] as GateRef)
        : await toGateRef(deps, only)
    const row = readGateFactsOne(deps.query, purposeKey, ref)
    const facts = factsFromRow(row instanceof Promise ? await row : row)
    return { ok: true, decisions: [decide(purpose, facts, now)] }
  }
  const gateRefs = await Promise.all(refs.map((r) => toGateRef(deps, r)))
  const rows = await readGateFacts(deps.db, purposeKey, gateRefs)
  const byIdx = new Map(rows.map((r) => [r.idx, r]))
  return {
    ok: true,
    decisions: refs.map((_, i) => decide(purpose, factsFromRow(byIdx.get(i)), now)),
  }
}
