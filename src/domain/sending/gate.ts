/** @module Gate decisions for a batch of contact references, in input order, from one query. */
import {
  CONTACT_FOUND,
  CONTACT_OBJECTED,
  CONTACT_SUPPRESSED,
  readGateFacts,
  readGateFactsByEmail,
  readGateFactsById,
  type GateBatchRow,
  type GateRefs,
  type GateRow,
} from '../../db/repositories/gate.ts'
import { settle } from '../../db/prepared.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexesSync, normalizeEmail } from '../../lib/email.ts'
import type { Keys } from '../../lib/keys.ts'
import {
  decide,
  type GateDecision,
  type GateFacts,
  type GateReason,
} from '../consent/gate-decision.ts'
import { cachedPurposes, loadPurposes, type Purpose } from '../consent/purposes.ts'

export type ContactRef = { email: string } | { mautic_id: string | number } | { contact_id: string }

type UnknownPurpose = { ok: false; code: 'unknown_purpose'; message: string }
export type GateBatchResult = { ok: true; decisions: GateDecision[] } | UnknownPurpose

/** One address's decision, and the contact it belongs to (null: none), from the same read. */
export type EmailGateResult =
  | { ok: true; decision: GateDecision; contact: { id: string; locale: 'fr' | 'en' } | null }
  | UnknownPurpose

/** No row: an unknown contact (or an invalid address), whose address is not on the suppression list. */
export function factsFromRow(row: GateRow | undefined): GateFacts {
  const bits = row?.contact ?? 0
  return {
    contactFound: (bits & CONTACT_FOUND) !== 0,
    suppressed: (bits & CONTACT_SUPPRESSED) !== 0,
    objected: (bits & CONTACT_OBJECTED) !== 0,
    state: row?.status
      ? {
          status: row.status,
          grantedAt: row.granted_at,
          noticeVersion: row.notice_version,
          noticeLocale: row.notice_locale,
        }
      : null,
  }
}

type GateDeps = Pick<Deps, 'db' | 'query' | 'queryOne' | 'keys' | 'clock'>

/**
 * The purpose, from the cache when it is warm (synchronous on Node: the gate sits on every send, and
 * a promise per decision is measurable there), then `go` with it; an unknown purpose is refused.
 */
function withPurpose<R>(
  deps: GateDeps,
  purposeKey: string,
  go: (purpose: Purpose, now: number) => R | Promise<R>,
): R | UnknownPurpose | Promise<R | UnknownPurpose> {
  const now = deps.clock.now()
  const purposes = cachedPurposes(deps.db, now)
  if (!purposes) return loadPurposes(deps.db, now).then(() => withPurpose(deps, purposeKey, go))
  const purpose = purposes.get(purposeKey)
  if (!purpose)
    return { ok: false, code: 'unknown_purpose', message: `Unknown purpose "${purposeKey}"` }
  return go(purpose, now)
}

/**
 * Decisions in input order, from one query (a prepared statement, blind indexes in plain JS). One
 * contact by address or by id takes a query of its own, without json_each.
 */
export function gateBatch(
  deps: GateDeps,
  purposeKey: string,
  refs: ContactRef[],
): GateBatchResult | Promise<GateBatchResult> {
  return withPurpose(deps, purposeKey, (purpose, now) => {
    const only = refs.length === 1 ? refs[0]! : undefined
    if (only && 'email' in only)
      return settle(decideByEmail(deps, purpose, now, only.email), (r) => ({
        ok: true as const,
        decisions: [r.decision],
      }))
    if (only && 'contact_id' in only)
      return settle(readGateFactsById(deps, purposeKey, String(only.contact_id)), (row) => ({
        ok: true as const,
        decisions: [decide(purpose, factsFromRow(row), now)],
      }))
    const { grouped, origin } = groupRefs(deps.keys, refs)
    return settle(readGateFacts(deps, purposeKey, grouped), (rows) => ({
      ok: true as const,
      decisions: inInputOrder(purpose, now, refs.length, rows, origin),
    }))
  })
}

/**
 * The gate for one address: one call of the API gate, and every /api/v1/send (which links the mail
 * to the contact this read returns, so the address is hashed and read once).
 */
export function gateByEmail(
  deps: GateDeps,
  purposeKey: string,
  address: string,
): EmailGateResult | Promise<EmailGateResult> {
  return withPurpose(deps, purposeKey, (purpose, now) =>
    settle(decideByEmail(deps, purpose, now, address), (r) => ({ ok: true as const, ...r })),
  )
}

/** Refusals that hold for every purpose: they are about the person, not the purpose. */
const PERSON_REASONS: ReadonlySet<GateReason> = new Set([
  'unknown_contact',
  'suppressed',
  'objected',
])

/**
 * Why no purpose at all can let mail through to this address (unknown_contact, suppressed,
 * objected), or null when one might. For the SMTP relay's RCPT TO, before the message names its
 * purpose (README, "The SMTP relay").
 */
export async function unreachableReason(
  deps: GateDeps,
  address: string,
): Promise<GateReason | null> {
  const purposes = await loadPurposes(deps.db, deps.clock.now())
  const anyPurpose = purposes.keys().next().value
  if (anyPurpose === undefined) return null
  const gate = await gateByEmail(deps, anyPurpose, address)
  const reason = gate.ok ? gate.decision.reason : null
  return reason && PERSON_REASONS.has(reason) ? reason : null
}

function decideByEmail(deps: GateDeps, purpose: Purpose, now: number, address: string) {
  // An address that is not one can match nothing: unknown_contact, as in a batch.
  const normalized = normalizeEmail(address)
  if (!normalized) return { decision: decide(purpose, factsFromRow(undefined), now), contact: null }
  const bidx = blindIndexesSync(deps.keys, normalized)
  return settle(readGateFactsByEmail(deps, purpose.key, bidx), (row) => ({
    decision: decide(purpose, factsFromRow(row), now),
    contact: row?.id ? { id: row.id, locale: row.locale! } : null,
  }))
}

/** References by kind, and where each one came from: `origin[idx]` is its index in the input. */
function groupRefs(keys: Keys, refs: ContactRef[]): { grouped: GateRefs; origin: number[] } {
  const grouped: GateRefs = { emails: [], previousEmails: null, ids: [], mauticIds: [] }
  const emailsAt: number[] = []
  const idsAt: number[] = []
  const mauticAt: number[] = []
  if (keys.previous) grouped.previousEmails = []
  refs.forEach((ref, i) => {
    if ('contact_id' in ref) {
      grouped.ids.push(String(ref.contact_id))
      idsAt.push(i)
    } else if ('mautic_id' in ref) {
      grouped.mauticIds.push(String(ref.mautic_id))
      mauticAt.push(i)
    } else {
      // An address that is not one can match nothing: it gets no row, hence unknown_contact.
      const normalized = normalizeEmail(ref.email)
      if (!normalized) return
      const [current, previous] = blindIndexesSync(keys, normalized)
      grouped.emails.push(current)
      grouped.previousEmails?.push(previous!)
      emailsAt.push(i)
    }
  })
  return { grouped, origin: emailsAt.concat(idsAt, mauticAt) }
}

function inInputOrder(
  purpose: Purpose,
  now: number,
  count: number,
  rows: GateBatchRow[],
  origin: number[],
): GateDecision[] {
  const decisions = new Array<GateDecision | undefined>(count)
  // The first row wins when an address matches two contacts (one under each key of a rotation).
  for (const row of rows) decisions[origin[row.idx]!] ??= decide(purpose, factsFromRow(row), now)
  for (let i = 0; i < count; i++) decisions[i] ??= decide(purpose, factsFromRow(undefined), now)
  return decisions as GateDecision[]
}
