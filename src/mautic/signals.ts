/**
 * @module What a Mautic event says about consent, decided the same way at intake and in the mirror.
 * A Mautic signal can only ever take consent away: it carries no proof of a grant (Art. 7(1)).
 */
import type { ConsentStateRow } from '../db/repositories/ledger.ts'
import type { Purpose } from '../domain/consent/purposes.ts'
import type { MauticDnc } from './types.ts'

/** Every comment the gateway writes into Mautic starts with this: its echoes are recognised by it. */
export const GATEWAY_MARK = 'consent-gateway'

export const isGatewayEntry = (dnc: Pick<MauticDnc, 'comments'>) =>
  (dnc.comments ?? '').startsWith(GATEWAY_MARK)

/** Purposes sent on a Mautic channel (`email`, `sms`…): what a Do-Not-Contact on that channel stops. */
export function purposesOfChannel(purposes: Map<string, Purpose>, channel: string): string[] {
  return [...purposes.values()].filter((p) => p.channel === channel).map((p) => p.key)
}

/**
 * The purposes a withdrawal signal dated `at` takes away: those granted or pending whose latest change
 * is not newer than the signal. Mautic can deliver late (queue mode, cron): last week's unsubscribe
 * must not undo a double opt-in confirmed today.
 */
export function withdrawable(
  states: Pick<ConsentStateRow, 'purpose_key' | 'status' | 'changed_at'>[],
  keys: string[],
  at: number,
): { change: string[]; stale: string[] } {
  const change: string[] = []
  const stale: string[] = []
  for (const key of keys) {
    const s = states.find((st) => st.purpose_key === key)
    if (!s || (s.status !== 'granted' && s.status !== 'pending')) continue
    if (s.changed_at > at) stale.push(key)
    else change.push(key)
  }
  return { change, stale }
}
