/** @module Outbox messages of kinds the app does not have: tests of the delivery mechanism itself. */
import type { OutboxMessage } from '../../src/domain/platform/outbox.ts'

/** A message of any kind (the app's kinds are typed in src/domain/platform/outbox-messages.ts). */
export const testMessage = (
  kind: string,
  payload: unknown,
  more: { orderingKey?: string } = {},
): OutboxMessage => ({ kind, payload, ...more }) as unknown as OutboxMessage
