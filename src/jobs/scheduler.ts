/** @module Periodic jobs, run by Node's timer and by the Workers cron trigger alike. */
import type { Deps } from '../deps.ts'
import { purgeEndedSessions } from '../domain/admin/sessions.ts'
import { maybeCheckpoint } from '../domain/consent/checkpoints.ts'
import { expireOptinRequests } from '../domain/consent/optin.ts'
import { purgeDeliveredOutbox } from '../domain/platform/outbox.ts'
import { backfillCounters } from '../domain/platform/counters.ts'
import { purgeRateLimits } from '../domain/platform/rate-limits.ts'
import { sendIncidentReminders } from '../domain/compliance/incidents.ts'
import { refreshRisks } from '../domain/compliance/risks.ts'
import { checkWebhookInMautic } from '../mautic/webhook-health.ts'
import { queueReconsentMails } from '../domain/consent/reconsent.ts'
import { scheduledMonitor } from '../domain/operations/monitor.ts'
import { scheduledRetention } from '../domain/operations/retention.ts'

export async function runScheduledJobs(deps: Deps): Promise<void> {
  const jobs: [string, () => Promise<unknown>][] = [
    ['expire opt-in requests', () => expireOptinRequests(deps)],
    ['purge rate limits', () => purgeRateLimits(deps, deps.clock.now())],
    ['ledger checkpoint', () => maybeCheckpoint(deps)],
    ['purge delivered outbox rows', () => purgeDeliveredOutbox(deps)],
    ['breach reminders (72-hour clock)', () => sendIncidentReminders(deps)],
    ['compliance risk report', () => refreshRisks(deps)],
    ['check the Mautic webhook', () => checkWebhookInMautic(deps)],
    ['purge ended admin sessions', () => purgeEndedSessions(deps)],
    ['count what was recorded before the daily counters', () => backfillCounters(deps)],
    ['re-consent mails', () => queueReconsentMails(deps)],
    ['retention run', () => scheduledRetention(deps)],
    ['compliance monitor and alerts', () => scheduledMonitor(deps)],
  ]
  // One failing job must not stop the others; each is retried on the next run.
  for (const [name, job] of jobs)
    await job().catch((err: unknown) =>
      deps.logger.log('error', `scheduled job failed: ${name}`, { err }),
    )
}
