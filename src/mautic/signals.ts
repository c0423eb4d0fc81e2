/**
 * @module What a Mautic event says about consent, decided the same way at intake and in the mirror.
 * A Mautic signal can only ever take consent away: it carries no proof of a grant (Art. 7(1)).
 *
 * Mautic's times are whole seconds (PHP `'c'`: `2025-03-14T09:26:54+00:00`, WebhookModel.php), ours
 * are milliseconds. A Mautic time T stands for any instant of [T, T+1 s): compared with one of ours,
 * a tie resolves toward the withdrawal, never toward a consent Mautic may have been told to drop.
 */
import type { ConsentStateRow } from '../db/repositories/ledger.ts'
import type { Purpose } from '../domain/consent/purposes.ts'
import type { MauticDnc } from './types.ts'

/** Every comment the gateway writes into Mautic starts with this: its echoes are recognised by it. */
export const GATEWAY_MARK = 'consent-gateway'

export const isGatewayEntry = (dnc: Pick<MauticDnc, 'comments'>) =>
  (dnc.comments ?? '').startsWith(GATEWAY_MARK)

/** The first millisecond after the whole second a Mautic time names. */
export const endOfMauticSecond = (mauticMs: number) => Math.floor(mauticMs / 1000) * 1000 + 1000

/** Whether one of our times is surely later than a Mautic time (a whole second): not in its second. */
export const isAfterMauticTime = (ours: number, mauticMs: number) =>
  ours >= endOfMauticSecond(mauticMs)

/**
 * Mautic's Do-Not-Contact channel names (LeadBundle/Entity/DoNotContact.php takes any string; the
 * channels register themselves): the push channel of NotificationBundle is `notification`, and
 * `mobile_notification` for its mobile variant (EventListener/ChannelSubscriber.php,
 * Helper/NotificationHelper.php), never `push`.
 */
const GATEWAY_CHANNEL: Readonly<Record<string, string>> = {
  email: 'email',
  sms: 'sms',
  notification: 'push',
  mobile_notification: 'push',
}

/** The gateway's channel for a Mautic DNC channel; unknown names are taken as they are. */
export const gatewayChannel = (mauticChannel: string) =>
  Object.hasOwn(GATEWAY_CHANNEL, mauticChannel) ? GATEWAY_CHANNEL[mauticChannel]! : mauticChannel

/** Purposes sent on a Mautic channel (`email`, `sms`, `notification`…): what a Do-Not-Contact on that channel stops. */
export function purposesOfChannel(purposes: Map<string, Purpose>, mauticChannel: string): string[] {
  const channel = gatewayChannel(mauticChannel)
  return [...purposes.values()].filter((p) => p.channel === channel).map((p) => p.key)
}

/**
 * The purposes a withdrawal signal dated `at` (a Mautic time) takes away: those granted or pending
 * unless their latest change is surely after the signal (one whole second after its second). Mautic
 * can deliver late (queue mode, cron): last week's unsubscribe must not undo a double opt-in confirmed
 * today; but an unsubscribe dated the second of a confirmation may have come after it, and wins.
 * `latest` is the newest change among those taken: the withdrawal is dated no earlier, so that the
 * ledger's times stay in order.
 */
export function withdrawable(
  states: Pick<ConsentStateRow, 'purpose_key' | 'status' | 'changed_at'>[],
  keys: string[],
  at: number,
): { change: string[]; stale: string[]; latest: number } {
  const change: string[] = []
  const stale: string[] = []
  let latest = -Infinity
  for (const key of keys) {
    const s = states.find((st) => st.purpose_key === key)
    if (!s || (s.status !== 'granted' && s.status !== 'pending')) continue
    if (isAfterMauticTime(s.changed_at, at)) stale.push(key)
    else {
      change.push(key)
      latest = Math.max(latest, s.changed_at)
    }
  }
  return { change, stale, latest }
}

/** When a withdrawal dated `at` (Mautic) is recorded: not before the change it undoes, not after now. */
export const withdrawalTime = (at: number, latest: number, now: number) =>
  Math.min(Math.max(at, latest), now)
