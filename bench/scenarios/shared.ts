/**
 * @module Requests and targets that several scenarios share (bench/scenarios/list.ts, and the same
 * scenarios on the large seeded database in bench/scenarios/seeded.ts).
 */
import { seededAddress as seededEmail } from '../seed/history.ts'
import type { FixedRate } from '../types.ts'

/** The intake's latency targets, each measured open loop for at least 20 s. */
export const INTAKE_FIXED_RATES: FixedRate[] = [
  { ofMax: 0.25, minDurationS: 20, target: { maxP99Ms: 20 } },
  { rate: 100, minDurationS: 20, target: { maxP99Ms: 5 } },
]

export const PAGE_HEADERS = { Accept: 'text/html', 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.8' }

/** The admin dashboard as a signed-in viewer reads it (the session cookie comes from the app). */
export const DASHBOARD_REQUEST = { path: '/admin', headers: PAGE_HEADERS }

export const SEND_BODY = JSON.stringify({
  purpose: 'newsletter',
  to: seededEmail(11),
  subject: 'Nouveautés',
  html: `<html><body>${'<p>Bonjour, voici nos nouveautés du mois.</p>'.repeat(40)}</body></html>`,
  text: 'Bonjour, voici nos nouveautés du mois.\n'.repeat(40),
})

/** The HTTP gate's body: one contact by address. */
export const gateBody = (i: number) =>
  JSON.stringify({ purpose: 'newsletter', contacts: [{ email: seededEmail(i) }] })
