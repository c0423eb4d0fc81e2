/**
 * @module Outbox messages of kinds the app does not have, for tests of the delivery mechanism itself,
 * and dead letters made the way the outbox makes them.
 */
import {
  deliverOutbox,
  OUTBOX_MAX_ATTEMPTS,
  type OutboxMessage,
} from '../../src/domain/platform/outbox.ts'

/** A message of any kind (the app's kinds are typed in src/domain/platform/outbox-messages.ts). */
export const testMessage = (
  kind: string,
  payload: unknown,
  more: { orderingKey?: string } = {},
): OutboxMessage => ({ kind, payload, ...more }) as unknown as OutboxMessage

/**
 * Delivery tried as often as the outbox tries, two hours of `clock` apart (past every backoff): a
 * message whose handler keeps failing is then a dead letter.
 */
export async function deliverUntilDead(
  deps: Parameters<typeof deliverOutbox>[0],
  clock: { advance(ms: number): void },
): Promise<void> {
  for (let i = 0; i < OUTBOX_MAX_ATTEMPTS; i++) {
    await deliverOutbox(deps)
    clock.advance(2 * 3600_000)
  }
}
