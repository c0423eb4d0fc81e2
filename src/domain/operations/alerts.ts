/**
 * @module Alerts: the open findings nobody was told about in the last day go out together, by mail
 * (ALERT_EMAIL, else DPO_EMAIL, in DPO_LOCALE) and by a webhook to ALERT_WEBHOOK_URL signed with the
 * Standard Webhooks scheme (src/lib/standard-webhooks.ts), so that receivers can verify it with that
 * project's libraries. Each finding is named at most once a day (`alerted_at`), and while it stays open
 * once a day again. Both go through the outbox, queued in the same unit that marks the findings, so an
 * alert is neither lost nor sent twice; the handlers are in src/jobs/alerts.ts.
 */
import {
  findFindingsByIds,
  findingsDueForAlert,
  markAlertedQuery,
} from '../../db/repositories/findings.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { ALERT_FINDING_KINDS, findingView, type FindingView } from '../platform/findings.ts'
import { enqueueQuery } from '../platform/outbox.ts'

/** A finding is named again after this while it stays open. */
export const ALERT_EVERY_MS = 86_400_000
/** Findings named in one alert; more wait for the next run. */
export const ALERT_MAX_FINDINGS = 100

/** Queues an alert for the findings due one; returns how many it names (0: none, or no channel). */
export async function queueAlerts(deps: Deps): Promise<number> {
  const { alertEmail, alertWebhook } = deps.config.operations
  if (!alertEmail && !alertWebhook) return 0
  const now = deps.clock.now()
  const due = await findingsDueForAlert(
    deps.db,
    ALERT_FINDING_KINDS,
    now - ALERT_EVERY_MS,
    ALERT_MAX_FINDINGS,
  )
  if (due.length === 0) return 0
  const alertId = uuidv7(now)
  const findingIds = due.map((f) => f.id)
  const queries = [markAlertedQuery(deps.db, findingIds, now)]
  if (alertEmail)
    queries.push(
      enqueueQuery(deps.db, now, { kind: 'mail.alert', payload: { alertId, findingIds } }),
    )
  if (alertWebhook)
    queries.push(
      enqueueQuery(deps.db, now, {
        kind: 'alert.webhook',
        payload: { alertId, findingIds, at: now },
      }),
    )
  await deps.atomic(queries)
  deps.wakeOutbox()
  deps.logger.log('info', 'alert queued', { alertId, findings: findingIds.length })
  return findingIds.length
}

/** The findings an alert names, as they stand now (one may have closed since). */
export async function alertFindings(deps: Pick<Deps, 'db'>, ids: string[]): Promise<FindingView[]> {
  return (await findFindingsByIds(deps.db, ids)).map(findingView)
}

/** The webhook's body: `type`, `timestamp`, `data` as the Standard Webhooks spec suggests. */
export function alertBody(
  alertId: string,
  at: number,
  findings: FindingView[],
  consoleUrl: string,
): string {
  return JSON.stringify({
    type: 'compliance.findings',
    timestamp: new Date(at).toISOString(),
    data: {
      alert_id: alertId,
      console_url: consoleUrl,
      open: findings.filter((f) => f.status === 'open').length,
      findings,
    },
  })
}
