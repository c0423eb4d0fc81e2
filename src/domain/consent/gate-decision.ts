/**
 * @module The gate: may a message of purpose P go to contact C? A pure decision over facts read in one
 * query (see db/repositories/gate.ts), with a machine-readable reason for every refusal (README, "Collecting and proving consent").
 */
import type { Locale } from '../../lib/i18n.ts'
import type { Purpose } from './purposes.ts'

export const GATE_REASONS = [
  'unknown_contact',
  'pending_confirmation',
  'no_consent',
  'withdrawn',
  'suppressed',
  'notice_outdated',
  'expired',
  'objected',
] as const

export type GateReason = (typeof GATE_REASONS)[number]

export interface GateDecision {
  allowed: boolean
  reason: GateReason | null
}

export interface GateFacts {
  contactFound: boolean
  /** The person asked for erasure, or the address is on the suppression list. */
  suppressed: boolean
  /** Art. 21 objection to all direct marketing. */
  objected: boolean
  state: null | {
    status: 'pending' | 'granted' | 'withdrawn' | 'expired'
    grantedAt: number | null
    noticeVersion: number | null
    noticeLocale: Locale | null
  }
}

const DAY_MS = 86_400_000
const ALLOWED: GateDecision = { allowed: true, reason: null }
const refuse = (reason: GateReason): GateDecision => ({ allowed: false, reason })

/**
 * The oldest notice version the gate accepts now in `locale`: that of the latest re-consent version
 * whose grace period is over (a version published with "requires re-consent" lets older consents
 * pass until then, while the people concerned are asked again: src/domain/consent/reconsent.ts).
 */
export function minVersionAt(purpose: Purpose, locale: Locale, now: number): number | undefined {
  const steps = purpose.reconsent?.[locale]
  if (!steps) return purpose.minAcceptedVersion[locale]
  let min: number | undefined
  for (const step of steps) if (step.enforcedFrom <= now) min = step.version
  return min
}

export function decide(purpose: Purpose, facts: GateFacts, now: number): GateDecision {
  if (!facts.contactFound) return refuse(facts.suppressed ? 'suppressed' : 'unknown_contact')
  if (facts.suppressed) return refuse('suppressed')
  if (facts.objected) return refuse('objected')
  const s = facts.state
  // Legitimate interest (e.g. B2B prospecting under CNIL rules) is opt-out: allowed until an objection.
  if (purpose.legalBasis === 'legitimate_interest')
    return s?.status === 'withdrawn' ? refuse('withdrawn') : ALLOWED
  if (!s) return refuse('no_consent')
  switch (s.status) {
    case 'pending':
      return refuse('pending_confirmation')
    case 'withdrawn':
      return refuse('withdrawn')
    case 'expired':
      return refuse('expired')
  }
  const min = s.noticeLocale ? minVersionAt(purpose, s.noticeLocale, now) : undefined
  if (min !== undefined && (s.noticeVersion ?? 0) < min) return refuse('notice_outdated')
  if (purpose.maxConsentAgeDays !== null && s.grantedAt !== null)
    if (now - s.grantedAt > purpose.maxConsentAgeDays * DAY_MS) return refuse('expired')
  return ALLOWED
}
