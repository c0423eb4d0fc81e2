/**
 * @module Where the operations stand, in one read for the console's overview and the admin API
 * (`GET /metrics` reads the same tables, src/domain/operations/metrics.ts): figures from the
 * database, never in-process counters: open findings per kind, open data-subject requests (due
 * within 7 days, overdue), the outbox's depth and dead letters, the last backup's age, the last
 * retention run, re-consent campaigns, the quarterly review, when the monitor last ran.
 */
import {
  countOpenRequests,
  deadLetterSummary,
  pendingOutboxSummary,
} from '../../db/repositories/monitor.ts'
import type { Deps } from '../../deps.ts'
import { openFindingsByKind } from '../platform/findings.ts'
import { reconsentProgress, type CampaignProgress } from '../consent/reconsent.ts'
import { backupStatus, type BackupStatus } from './backups.ts'
import { DSR_WARN_MS, monitorMarks } from './monitor.ts'
import { listRuns, type RetentionRunView } from './retention.ts'
import { reviewStatus } from './review.ts'
import type { FindingKind } from '../platform/findings.ts'

export interface OperationsStatus {
  findings_open: Record<FindingKind, number>
  requests: { open: number; due_within_7_days: number; overdue: number }
  outbox: { pending: number; oldest_pending_at: string | null; dead: number }
  backup: BackupStatus
  retention: {
    inactive_days: number
    last_run: RetentionRunView | null
    last_completed: RetentionRunView | null
  }
  reconsent: CampaignProgress[]
  review: { quarter: string; due_at: string; signed: boolean; pending: string[] }
  monitor: Awaited<ReturnType<typeof monitorMarks>>
}

export async function operationsStatus(deps: Deps): Promise<OperationsStatus> {
  const now = deps.clock.now()
  const [
    findings,
    open,
    dueSoon,
    overdue,
    pending,
    dead,
    backup,
    runs,
    reconsent,
    review,
    monitor,
  ] = await Promise.all([
    openFindingsByKind(deps),
    countOpenRequests(deps.db),
    countOpenRequests(deps.db, now + DSR_WARN_MS),
    countOpenRequests(deps.db, now),
    pendingOutboxSummary(deps.db),
    deadLetterSummary(deps.db),
    backupStatus(deps),
    listRuns(deps, 20),
    reconsentProgress(deps),
    reviewStatus(deps),
    monitorMarks(deps),
  ])
  return {
    findings_open: findings,
    requests: { open, due_within_7_days: dueSoon - overdue, overdue },
    outbox: {
      pending: pending.count,
      oldest_pending_at: pending.oldest === null ? null : new Date(pending.oldest).toISOString(),
      dead: dead.reduce((n, k) => n + k.count, 0),
    },
    backup,
    retention: {
      inactive_days: deps.config.operations.retentionInactiveDays,
      last_run: runs[0] ?? null,
      last_completed: runs.find((r) => r.status === 'done') ?? null,
    },
    reconsent,
    review: {
      quarter: review.quarter,
      due_at: review.due_at,
      signed: review.signed !== null,
      pending: review.pending,
    },
    monitor,
  }
}
