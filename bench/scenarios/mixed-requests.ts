/**
 * @module The mixed load's requests (bench/scenarios/list.ts): what a gateway serving one Mautic and
 * its mails sees in a busy hour, in a fixed turn of ten — four Mautic webhooks (a new 5 KB event
 * each), three gate calls (one contact by address), two preference pages and one RFC 8058 one-click
 * unsubscribe. Pages and one-click POSTs go to the link tokens of a thousand seeded contacts in turn
 * (the app's pools); the one-click withdrawals change what later gate calls answer, as they would.
 */
import type { NextRequest } from '../types.ts'
import { PAGE_HEADERS, gateBody } from './shared.ts'
import { nextWebhook, WEBHOOK_HEADERS } from '../apps/webhook-requests.ts'

const TURN = [
  'webhook',
  'gate',
  'page',
  'webhook',
  'gate',
  'webhook',
  'one-click',
  'gate',
  'page',
  'webhook',
] as const

/** Seeded contacts of the 2,000-contact app the gate calls ask about. */
const GATE_CONTACTS = 2_000

let n = 0

export const mixedRequest: NextRequest = () => {
  const k = n++
  switch (TURN[k % TURN.length]!) {
    case 'webhook': {
      const { body, headers } = nextWebhook()
      return {
        kind: 'webhook',
        method: 'POST',
        path: '/hooks/mautic',
        body,
        headers: { ...WEBHOOK_HEADERS, ...headers },
      }
    }
    case 'gate':
      return {
        kind: 'gate',
        method: 'POST',
        path: '/api/v1/gate',
        body: gateBody((k * 7) % GATE_CONTACTS),
      }
    case 'page':
      return { kind: 'page', method: 'GET', path: '/p/{preferencesToken}', headers: PAGE_HEADERS }
    case 'one-click':
      return {
        kind: 'one-click',
        method: 'POST',
        path: '/u/{unsubscribeToken}',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }
  }
}
