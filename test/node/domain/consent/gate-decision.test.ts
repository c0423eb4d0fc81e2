import { describe, expect, it } from 'vitest'
import { decide, type GateFacts } from '../../../../src/domain/consent/gate-decision.ts'
import type { Purpose } from '../../../../src/domain/consent/purposes.ts'

const NOW = Date.UTC(2026, 10, 29)
const DAY = 86_400_000
const purpose = (over: Partial<Purpose> = {}): Purpose => ({
  key: 'newsletter',
  channel: 'email',
  legalBasis: 'consent',
  doubleOptIn: true,
  maxConsentAgeDays: null,
  current: {},
  minAcceptedVersion: {},
  ...over,
})
const granted = (over: Partial<NonNullable<GateFacts['state']>> = {}): GateFacts['state'] => ({
  status: 'granted',
  grantedAt: NOW - DAY,
  noticeVersion: 1,
  noticeLocale: 'fr',
  ...over,
})
const facts = (over: Partial<GateFacts> = {}): GateFacts => ({
  contactFound: true,
  suppressed: false,
  objected: false,
  state: granted(),
  ...over,
})

describe('decide (the gate), every reason the README lists', () => {
  it.each([
    ['granted', purpose(), facts(), true, null],
    [
      'unknown contact',
      purpose(),
      facts({ contactFound: false, state: null }),
      false,
      'unknown_contact',
    ],
    [
      'unknown but suppressed address',
      purpose(),
      facts({ contactFound: false, suppressed: true }),
      false,
      'suppressed',
    ],
    ['suppressed beats a grant', purpose(), facts({ suppressed: true }), false, 'suppressed'],
    ['objected beats a grant', purpose(), facts({ objected: true }), false, 'objected'],
    ['no state', purpose(), facts({ state: null }), false, 'no_consent'],
    [
      'pending',
      purpose(),
      facts({ state: granted({ status: 'pending' }) }),
      false,
      'pending_confirmation',
    ],
    [
      'withdrawn',
      purpose(),
      facts({ state: granted({ status: 'withdrawn' }) }),
      false,
      'withdrawn',
    ],
    [
      'expired state',
      purpose(),
      facts({ state: granted({ status: 'expired' }) }),
      false,
      'expired',
    ],
    [
      'outdated notice',
      purpose({ minAcceptedVersion: { fr: 2 } }),
      facts(),
      false,
      'notice_outdated',
    ],
    [
      're-consent in the other locale only',
      purpose({ minAcceptedVersion: { en: 2 } }),
      facts(),
      true,
      null,
    ],
    [
      'consent under the re-consent version',
      purpose({ minAcceptedVersion: { fr: 2 } }),
      facts({ state: granted({ noticeVersion: 2 }) }),
      true,
      null,
    ],
    [
      'older than the maximum consent age',
      purpose({ maxConsentAgeDays: 30 }),
      facts({ state: granted({ grantedAt: NOW - 31 * DAY }) }),
      false,
      'expired',
    ],
    [
      'within the maximum consent age',
      purpose({ maxConsentAgeDays: 30 }),
      facts({ state: granted({ grantedAt: NOW - 29 * DAY }) }),
      true,
      null,
    ],
    [
      'legitimate interest, no state',
      purpose({ legalBasis: 'legitimate_interest' }),
      facts({ state: null }),
      true,
      null,
    ],
    [
      'legitimate interest, objected to the purpose',
      purpose({ legalBasis: 'legitimate_interest' }),
      facts({ state: granted({ status: 'withdrawn' }) }),
      false,
      'withdrawn',
    ],
    [
      'legitimate interest, objected to all marketing',
      purpose({ legalBasis: 'legitimate_interest' }),
      facts({ objected: true }),
      false,
      'objected',
    ],
  ] as const)('%s', (_name, p, f, allowed, reason) => {
    expect(decide(p, f, NOW)).toEqual({ allowed, reason })
  })
})
