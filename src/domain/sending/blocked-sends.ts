/**
 * @module Sends the gate refused, counted where an operator will see them (the admin's blocked-sends
 * figures, /metrics): per UTC day, place (`relay_rcpt`, `relay_data`), purpose and reason. Counts
 * only, never who: the refusal itself is the sender's business, the figure the controller's
 * (accountability, GDPR Art. 5(2)).
 */
import {
  countBlockedSendsQuery,
  listBlockedSends,
  type BlockedSendRow,
} from '../../db/repositories/blocked-sends.ts'
import type { BlockedSendSource } from '../../db/database.ts'
import type { Deps } from '../../deps.ts'

export type { BlockedSendRow }

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/** Counts each reason once per occurrence, in one atomic unit. `purposeKey` '' when none was chosen. */
export async function recordBlockedSends(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  source: BlockedSendSource,
  purposeKey: string,
  reasons: string[],
): Promise<void> {
  if (reasons.length === 0) return
  const now = deps.clock.now()
  const day = utcDay(now)
  const counts = new Map<string, number>()
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1)
  await deps.atomic(
    [...counts].map(([reason, count]) =>
      countBlockedSendsQuery(deps.db, { day, source, purposeKey, reason }, count, now),
    ),
  )
}

/** The counters of the last `days` UTC days, today included, newest first. */
export function blockedSendFigures(
  deps: Pick<Deps, 'db' | 'clock'>,
  days = 30,
): Promise<BlockedSendRow[]> {
  return listBlockedSends(deps.db, utcDay(deps.clock.now() - (days - 1) * 86_400_000))
}
