/**
 * @module The monitor (step 5, "monitor continuously"; GDPR Art. 5(2), 24(1), 32(1)(d)): scheduled
 * checks, each opening a finding per subject while its condition holds and closing it when the
 * condition is gone (src/domain/platform/findings.ts), then alerts for what is open
 * (alerts.ts: mail and a signed webhook, at most one a day per finding). The checks:
 *
 * - `blocked_send_attempts`: the SMTP relay refused marketing mail in the last 24 hours (its log,
 *   `blocked_sends`): the sending tool's list is out of step with the ledger, a send without valid
 *   consent stopped at the last moment. Sends Mautic made without consent are caught after the fact
 *   from its `email_on_send` events as `send_without_consent` findings (src/mautic/process.ts);
 * - `dsr_due_soon` / `dsr_overdue`: a data-subject request within 7 days of its due date, or past it
 *   (Art. 12(3));
 * - `reconsent_pending`: a notice version requires re-consent and contacts are still on an older one,
 *   until the grace period ends (src/domain/consent/reconsent.ts);
 * - `admin_without_second_factor`: an owner, admin or DPO account with no second factor;
 * - `webhook_silent` / `webhook_unpublished`: no Mautic delivery for MONITOR_WEBHOOK_SILENCE_HOURS, or
 *   the webhook unpublished or gone in Mautic (as its hourly check saw it: src/mautic/webhook-health.ts);
 * - `outbox_dead_letters`: messages the outbox gave up on;
 * - `backup_stale`: the last backup older than BACKUP_MAX_AGE_HOURS (or none);
 * - `chain_broken`: a consent chain, a checkpoint or the audit chain fails verification (the whole
 *   walk costs a read of every event: at most once a day);
 * - `review_due`: the quarterly review not signed off (review.ts).
 *
 * A check that fails leaves its findings as they were (and is logged); the others go on.
 */
import type { CompiledQuery } from 'kysely'
import { claimJobTurn, findJobMark, setJobMarkQuery } from '../../db/repositories/job-marks.ts'
import { findWebhookHealth } from '../../db/repositories/mautic-setup.ts'
import {
  accountsWithoutSecondFactor,
  deadLetterSummary,
  openRequestsDueBefore,
  recentBlockedSends,
} from '../../db/repositories/monitor.ts'
import type { Deps } from '../../deps.ts'
import { SECOND_FACTOR_REQUIRED } from '../admin/permissions.ts'
import { verifyEverything } from '../admin/verify.ts'
import { reconsentProgress } from '../consent/reconsent.ts'
import {
  reconcileFindings,
  type Condition,
  type FindingKind,
  type FindingRow,
} from '../platform/findings.ts'
import { queueAlerts } from './alerts.ts'
import { backupStatus } from './backups.ts'
import { reviewConditions } from './review.ts'

const HOUR_MS = 3_600_000
const DAY_MS = 24 * HOUR_MS
/** The monitor runs at most this often from the scheduler. */
export const MONITOR_EVERY_MS = 5 * 60_000
/** The chain verification runs at most this often. */
export const VERIFY_EVERY_MS = DAY_MS
/** A request this close to its due date is a finding. */
export const DSR_WARN_MS = 7 * DAY_MS
/** The source the Mautic connector records its webhook's health under (src/mautic/webhook-secrets.ts). */
const MAUTIC_SOURCE = 'mautic'

const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString())

interface Check {
  name: string
  kinds: readonly FindingKind[]
  /** The conditions found, or null when the check did not run this time (its findings stay). */
  run: (deps: Deps, now: number) => Promise<Condition[] | null>
  resolution?: (row: FindingRow) => string
}

const CHECKS: Check[] = [
  {
    name: 'refused sends',
    kinds: ['blocked_send_attempts'],
    async run(deps, now) {
      const since = now - DAY_MS
      const rows = await recentBlockedSends(
        deps.db,
        new Date(since).toISOString().slice(0, 10),
        since,
      )
      const byPurpose = new Map<string, { refused: number; reasons: Record<string, number> }>()
      for (const r of rows) {
        const key = r.purpose_key || '*'
        const p = byPurpose.get(key) ?? { refused: 0, reasons: {} }
        p.refused += r.count
        p.reasons[r.reason] = (p.reasons[r.reason] ?? 0) + r.count
        byPurpose.set(key, p)
      }
      return [...byPurpose].map(([purpose, p]) => ({
        kind: 'blocked_send_attempts' as const,
        subject: `relay:${purpose}`,
        severity: 'medium' as const,
        purposeKey: purpose === '*' ? null : purpose,
        details: { purpose: purpose === '*' ? null : purpose, ...p, window_hours: 24 },
      }))
    },
  },
  {
    name: 'data-subject requests',
    kinds: ['dsr_due_soon', 'dsr_overdue'],
    async run(deps, now) {
      const due = await openRequestsDueBefore(deps.db, now + DSR_WARN_MS, 1000)
      return due.map((r) => ({
        kind: r.due_at <= now ? ('dsr_overdue' as const) : ('dsr_due_soon' as const),
        subject: `dsr:${r.id}`,
        severity: r.due_at <= now ? ('high' as const) : ('medium' as const),
        details: {
          request_id: r.id,
          request_kind: r.kind,
          channel: r.channel,
          received_at: iso(r.received_at),
          due_at: iso(r.due_at),
          days_left: Math.floor((r.due_at - now) / DAY_MS),
        },
      }))
    },
    // A request due soon that became overdue is not "cleared": say which.
    resolution: (row) => (row.kind === 'dsr_due_soon' ? 'completed_or_overdue' : 'completed'),
  },
  {
    name: 're-consent',
    kinds: ['reconsent_pending'],
    async run(deps) {
      return (await reconsentProgress(deps, { running: true }))
        .filter((c) => !c.grace_over && (!c.all_queued || c.outdated > 0))
        .map((c) => ({
          kind: 'reconsent_pending' as const,
          subject: `notice:${c.notice_id}`,
          severity: 'low' as const,
          purposeKey: c.purpose,
          details: {
            purpose: c.purpose,
            locale: c.locale,
            version: c.version,
            grace_until: c.grace_until,
            mailed: c.queued,
            still_outdated: c.outdated,
            all_queued: c.all_queued,
          },
        }))
    },
    resolution: () => 'answered_or_grace_over',
  },
  {
    name: 'second factors',
    kinds: ['admin_without_second_factor'],
    async run(deps) {
      const rows = await accountsWithoutSecondFactor(deps.db, [...SECOND_FACTOR_REQUIRED])
      return rows.map((u) => ({
        kind: 'admin_without_second_factor' as const,
        subject: `admin:${u.id}`,
        severity: 'high' as const,
        details: { admin_user_id: u.id, role: u.role },
      }))
    },
  },
  {
    name: 'Mautic webhook',
    kinds: ['webhook_silent', 'webhook_unpublished'],
    async run(deps, now) {
      const row = await findWebhookHealth(deps.db, MAUTIC_SOURCE)
      if (!deps.config.mautic && !deps.config.mauticWebhookSecret && !row) return []
      const out: Condition[] = []
      if (row?.published === 0 || (row?.checked_at != null && row.webhook_id === null))
        out.push({
          kind: 'webhook_unpublished',
          subject: 'mautic',
          severity: 'high',
          details: {
            state: row.published === 0 ? 'unpublished' : 'missing',
            webhook_id: row.webhook_id,
            checked_at: iso(row.checked_at),
          },
        })
      const hours = deps.config.operations.webhookSilenceHours
      const received = row?.last_received_at ?? null
      if (received === null || now - received > hours * HOUR_MS)
        out.push({
          kind: 'webhook_silent',
          subject: 'mautic',
          severity: 'medium',
          details: {
            last_received_at: iso(received),
            silence_hours: hours,
            last_refused_at: iso(row?.last_refused_at),
            last_refused_reason: row?.last_refused_reason ?? null,
          },
        })
      return out
    },
  },
  {
    name: 'dead letters',
    kinds: ['outbox_dead_letters'],
    async run(deps) {
      const kinds = await deadLetterSummary(deps.db)
      const count = kinds.reduce((n, k) => n + k.count, 0)
      if (count === 0) return []
      return [
        {
          kind: 'outbox_dead_letters',
          subject: 'outbox',
          severity: 'high',
          details: {
            count,
            oldest: iso(Math.min(...kinds.map((k) => k.oldest))),
            kinds: Object.fromEntries(kinds.map((k) => [k.kind, k.count])),
          },
        },
      ]
    },
  },
  {
    name: 'backups',
    kinds: ['backup_stale'],
    async run(deps) {
      const status = await backupStatus(deps)
      if (!status.stale) return []
      return [
        {
          kind: 'backup_stale',
          subject: 'backup',
          severity: status.last ? 'medium' : 'high',
          details: {
            last_taken_at: status.last?.taken_at ?? null,
            age_hours: status.age_seconds === null ? null : Math.floor(status.age_seconds / 3600),
            max_age_hours: status.max_age_hours,
          },
        },
      ]
    },
  },
  {
    name: 'chain verification',
    kinds: ['chain_broken'],
    async run(deps, now) {
      const mark = await findJobMark(deps.db, 'verify')
      if (mark && now - mark.last_run_at < VERIFY_EVERY_MS) return null
      const report = await verifyEverything(deps)
      await deps.atomic([
        setJobMarkQuery(deps.db, 'verify', now, {
          ok: report.ok,
          chains: report.ledger.chains,
          events: report.ledger.events,
          audit_entries: report.audit.entries,
        }),
      ])
      if (report.ok) return []
      const problems = [...report.ledger.problems, ...report.audit.problems]
      return [
        {
          kind: 'chain_broken',
          subject: 'ledger',
          severity: 'high',
          details: { problems: problems.slice(0, 20), count: problems.length },
        },
      ]
    },
  },
  {
    name: 'quarterly review',
    kinds: ['review_due'],
    run: (deps) => reviewConditions(deps),
    resolution: () => 'signed',
  },
]

export interface MonitorReport {
  opened: number
  closed: number
  open: number
  /** Checks that failed this time (their findings stay as they were). */
  failed: string[]
  /** Findings named by the alert queued now. */
  alerted: number
}

/**
 * Runs every check now and commits what changed, then queues the alerts due. `verify: true` runs the
 * chain verification even when it ran within the day (the console's button, the tests).
 */
export async function runMonitor(
  deps: Deps,
  opts: { verify?: boolean } = {},
): Promise<MonitorReport> {
  const now = deps.clock.now()
  const report: MonitorReport = { opened: 0, closed: 0, open: 0, failed: [], alerted: 0 }
  const queries: CompiledQuery[] = []
  if (opts.verify) await deps.atomic([setJobMarkQuery(deps.db, 'verify', 0)])
  for (const check of CHECKS) {
    let conditions: Condition[] | null
    try {
      conditions = await check.run(deps, now)
    } catch (err) {
      report.failed.push(check.name)
      deps.logger.log('error', `monitor check failed: ${check.name}`, { err })
      continue
    }
    if (conditions === null) continue
    const r = await reconcileFindings(deps, check.kinds, conditions, check.resolution)
    report.opened += r.opened
    report.closed += r.closed
    report.open += r.open
    queries.push(...r.queries)
  }
  queries.push(setJobMarkQuery(deps.db, 'monitor', now, { ...report }))
  await deps.atomic(queries)
  if (report.opened > 0 || report.closed > 0)
    deps.logger.log('info', 'monitor: findings changed', {
      opened: report.opened,
      closed: report.closed,
    })
  report.alerted = await queueAlerts(deps)
  return report
}

/** The scheduled job: the monitor every MONITOR_EVERY_MS at most, whichever process gets there first. */
export async function scheduledMonitor(deps: Deps): Promise<MonitorReport | undefined> {
  const now = deps.clock.now()
  if (!(await claimJobTurn(deps.db, 'monitor', now, now - MONITOR_EVERY_MS))) return undefined
  return runMonitor(deps)
}

/** When the monitor and the chain verification last ran (the console, the admin API). */
export async function monitorMarks(deps: Pick<Deps, 'db'>) {
  const [monitor, verify] = await Promise.all([
    findJobMark(deps.db, 'monitor'),
    findJobMark(deps.db, 'verify'),
  ])
  return {
    last_run_at: iso(monitor?.last_run_at),
    last_verification_at: verify && verify.last_run_at > 0 ? iso(verify.last_run_at) : null,
    last_verification: verify ? (JSON.parse(verify.details) as Record<string, unknown>) : null,
  }
}
