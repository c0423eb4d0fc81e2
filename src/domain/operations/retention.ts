/**
 * @module Retention (GDPR Art. 5(1)(e); the CNIL's rule for prospects: three years from the last
 * contact coming from the person). A run erases every active contact whose own last activity is older
 * than RETENTION_INACTIVE_DAYS, then deletes old webhook receipts, spent set-up links and the mail
 * log. What counts as the person's activity (README, "Retention"): being collected (the contact's
 * creation), a consent event they made (a subscription on a form, through a site's API key or a mapped
 * Mautic form; a confirmation; a change in the preference center; an unsubscribe, ours or their own in
 * Mautic), a data-subject request, and a submission of any Mautic form. Never the opening of an e-mail
 * or a GET of a link (mail scanners open both), nor what staff or the system did.
 *
 * Each erasure is the existing one (src/domain/rights/erasure.ts): method `retention`, no suppression
 * (the person did not object: they may subscribe again), the Mautic contacts deleted through the
 * outbox, and passed on to the recipients of the processors register, since Art. 19 covers every
 * erasure under Art. 17(1), whose ground (a) is data no longer needed: a recipient keeping the data
 * would defeat the limit. A run goes in bounded steps (a window of contacts, a few erasures) and
 * resumes where it stopped, so the Workers cron and D1 carry it as well as Node's timer.
 */
import type { RetentionPhase } from '../../db/database.ts'
import {
  activityOf,
  activityWindow,
  claimRetentionRun,
  countReceiptsBefore,
  countSpentLinks,
  deleteActivityQuery,
  deleteReceipts,
  deleteSpentLinks,
  findRetentionRun,
  insertRetentionRunQuery,
  listRetentionRuns,
  receiptWindow,
  runningRetentionRun,
  updateRetentionRunQuery,
  type ActivityRow,
  type RetentionRunRow,
} from '../../db/repositories/retention.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { eraseContact } from '../rights/erasure.ts'

export const DAY_MS = 86_400_000
/** Webhook receipts only deduplicate deliveries: Mautic never sends one again after this. */
export const RECEIPT_RETENTION_MS = 90 * DAY_MS
/** Used or expired set-up and invitation links: kept a month for the console, then deleted. */
export const LINK_RETENTION_MS = 30 * DAY_MS
/** MAIL_TRANSPORT=log's mails (a trial's): an address and link tokens each. */
export const MAIL_LOG_RETENTION_MS = 30 * DAY_MS
/** A scheduled run starts this long after the previous one started. */
export const RUN_EVERY_MS = DAY_MS

const WINDOW = 500
const LEASE_MS = 5 * 60_000

export interface StepBudget {
  /** Contacts (or receipts) looked at. */
  scan: number
  /** Contacts erased. */
  erase: number
}

const STEP: StepBudget = { scan: 2_000, erase: 50 }

export type LastActivityKind = 'collected' | 'consent' | 'request' | 'contact'

export interface Candidate {
  contact_id: string
  created_at: string
  last_activity_at: string
  last_activity: LastActivityKind
}

/** The latest thing the person did, and what it was. */
export function lastActivity(row: ActivityRow): { at: number; kind: LastActivityKind } {
  let best = { at: row.created_at, kind: 'collected' as LastActivityKind }
  for (const [at, kind] of [
    [row.last_event, 'consent'],
    [row.last_request, 'request'],
    [row.last_other, 'contact'],
  ] as const)
    if (at !== null && Number(at) >= best.at) best = { at: Number(at), kind }
  return best
}

/** Contacts whose last activity is before this time are erased (null: RETENTION_INACTIVE_DAYS=0). */
export function retentionCutoff(deps: Pick<Deps, 'config' | 'clock'>): number | null {
  const days = deps.config.operations.retentionInactiveDays
  return days === 0 ? null : deps.clock.now() - days * DAY_MS
}

const candidate = (row: ActivityRow): Candidate => {
  const last = lastActivity(row)
  return {
    contact_id: row.id,
    created_at: new Date(row.created_at).toISOString(),
    last_activity_at: new Date(last.at).toISOString(),
    last_activity: last.kind,
  }
}

export interface RetentionPreview {
  inactive_days: number
  cutoff: string | null
  candidates: Candidate[]
  /** Give it back as `after` for the next page; null once every contact was looked at. */
  next: string | null
  scanned: number
  /** What else the run would delete now. */
  webhook_receipts: number
  setup_links: number
  mail_logs: number
}

/**
 * The dry run (`purge --dry-run`, the console): the contacts a run would erase now, up to `limit`,
 * from `after` on, looking at no more than `scanBudget` contacts per call; and how many receipts,
 * links and logged mails would go. Changes nothing.
 */
export async function previewRetention(
  deps: Deps,
  opts: { after?: string | null; limit?: number; scanBudget?: number } = {},
): Promise<RetentionPreview> {
  const now = deps.clock.now()
  const cutoff = retentionCutoff(deps)
  const limit = Math.min(opts.limit ?? 100, 1000)
  const budget = opts.scanBudget ?? 20_000
  const candidates: Candidate[] = []
  let after = opts.after ?? null
  let scanned = 0
  let next: string | null = null
  if (cutoff !== null)
    outer: for (;;) {
      const rows = await activityWindow(deps.db, after, WINDOW)
      for (const row of rows) {
        scanned++
        after = row.id
        if (lastActivity(row).at < cutoff) candidates.push(candidate(row))
        if (candidates.length >= limit || scanned >= budget) {
          next = row.id
          break outer
        }
      }
      if (rows.length < WINDOW) break
    }
  const first = !opts.after
  return {
    inactive_days: deps.config.operations.retentionInactiveDays,
    cutoff: cutoff === null ? null : new Date(cutoff).toISOString(),
    candidates,
    next,
    scanned,
    // The other purges do not depend on the page: counted with the first one only.
    webhook_receipts: first ? await countReceiptsBefore(deps.db, now - RECEIPT_RETENTION_MS) : 0,
    setup_links: first ? await countSpentLinks(deps.db, now - LINK_RETENTION_MS) : 0,
    mail_logs: first
      ? ((await deps.mail.purgeLog?.(now - MAIL_LOG_RETENTION_MS, { limit: 0, dryRun: true })) ?? 0)
      : 0,
  }
}

export interface RetentionRunView {
  id: string
  trigger: RetentionRunRow['trigger']
  actor: string
  status: RetentionRunRow['status']
  phase: RetentionPhase
  inactive_days: number
  cutoff: string
  scanned: number
  contacts_erased: number
  webhook_receipts_deleted: number
  setup_links_deleted: number
  mail_logs_deleted: number
  error: string | null
  started_at: string
  finished_at: string | null
}

export function runView(r: RetentionRunRow): RetentionRunView {
  return {
    id: r.id,
    trigger: r.trigger,
    actor: r.actor,
    status: r.status,
    phase: r.phase,
    inactive_days: r.inactive_days,
    cutoff: new Date(r.cutoff).toISOString(),
    scanned: r.scanned,
    contacts_erased: r.contacts_erased,
    webhook_receipts_deleted: r.receipts_deleted,
    setup_links_deleted: r.links_deleted,
    mail_logs_deleted: r.mail_logs_deleted,
    error: r.error,
    started_at: new Date(r.started_at).toISOString(),
    finished_at: r.finished_at === null ? null : new Date(r.finished_at).toISOString(),
  }
}

export const listRuns = async (deps: Pick<Deps, 'db'>, limit = 50) =>
  (await listRetentionRuns(deps.db, limit)).map(runView)

export const getRun = async (deps: Pick<Deps, 'db'>, id: string) => {
  const row = await findRetentionRun(deps.db, id)
  return row && runView(row)
}

/** A new run (or the one already running: two runs at once would only repeat each other). */
export async function startRetentionRun(
  deps: Deps,
  by: { trigger: RetentionRunRow['trigger']; actor: string },
): Promise<RetentionRunRow> {
  const running = await runningRetentionRun(deps.db)
  if (running) return running
  const now = deps.clock.now()
  const days = deps.config.operations.retentionInactiveDays
  const row: RetentionRunRow = {
    id: uuidv7(now),
    trigger: by.trigger,
    actor: by.actor,
    status: 'running',
    phase: days === 0 ? 'receipts' : 'contacts',
    cursor: null,
    cutoff: now - days * DAY_MS,
    inactive_days: days,
    scanned: 0,
    contacts_erased: 0,
    receipts_deleted: 0,
    links_deleted: 0,
    mail_logs_deleted: 0,
    error: null,
    locked_until: null,
    started_at: now,
    updated_at: now,
    finished_at: null,
  }
  await deps.atomic([insertRetentionRunQuery(deps.db, row)])
  deps.logger.log('info', 'retention run started', { runId: row.id, trigger: by.trigger })
  return row
}

const NEXT_PHASE: Record<RetentionPhase, RetentionPhase> = {
  contacts: 'receipts',
  receipts: 'links',
  links: 'mail_log',
  mail_log: 'done',
  done: 'done',
}

/**
 * One bounded step of a run, under a lease (a second process finds it taken and does nothing). The
 * run's counters and position are saved after each step; a crash mid-step repeats at most the
 * erasures of that step, which are idempotent.
 */
export async function advanceRetentionRun(
  deps: Deps,
  id: string,
  budget: StepBudget = STEP,
): Promise<RetentionRunRow | undefined> {
  const now = deps.clock.now()
  if (!(await claimRetentionRun(deps.db, id, now, now + LEASE_MS)))
    return findRetentionRun(deps.db, id)
  const run = (await findRetentionRun(deps.db, id))!
  const next = { ...run }
  try {
    await step(deps, next, budget)
  } catch (err) {
    next.status = 'failed'
    next.error = String((err as Error)?.message ?? err).slice(0, 500)
    next.finished_at = deps.clock.now()
    deps.logger.log('error', 'retention run failed', { runId: id, err })
  }
  if (next.phase === 'done' && next.status === 'running') {
    next.status = 'done'
    next.finished_at = deps.clock.now()
    deps.logger.log('info', 'retention run done', {
      runId: id,
      scanned: next.scanned,
      contactsErased: next.contacts_erased,
      receiptsDeleted: next.receipts_deleted,
      linksDeleted: next.links_deleted,
      mailLogsDeleted: next.mail_logs_deleted,
    })
  }
  const { id: _id, ...changes } = next
  await deps.atomic([
    updateRetentionRunQuery(deps.db, id, {
      ...changes,
      locked_until: null,
      updated_at: deps.clock.now(),
    }),
  ])
  return { ...next, locked_until: null }
}

async function step(deps: Deps, run: RetentionRunRow, budget: StepBudget): Promise<void> {
  const now = deps.clock.now()
  switch (run.phase) {
    case 'contacts': {
      let scanned = 0
      let erased = 0
      for (;;) {
        const rows = await activityWindow(deps.db, run.cursor, Math.min(WINDOW, budget.scan))
        for (const row of rows) {
          if (lastActivity(row).at < run.cutoff) {
            if (erased >= budget.erase) return
            // Looked at again just before: the person may have acted since the window was read.
            const fresh = await activityOf(deps.db, row.id)
            if (fresh && lastActivity(fresh).at < run.cutoff) {
              const r = await eraseContact(deps, row.id, {
                suppress: null,
                method: 'retention',
                source: `retention-run:${run.id}`,
                actor: 'system',
                deleteInMautic: true,
                passOnToRecipients: true,
                extra: [deleteActivityQuery(deps.db, row.id)],
              })
              if (r.ok && r.status === 'erased') {
                erased++
                run.contacts_erased++
              }
            }
          }
          run.cursor = row.id
          run.scanned++
          scanned++
        }
        if (rows.length < Math.min(WINDOW, budget.scan)) {
          run.phase = NEXT_PHASE.contacts
          run.cursor = null
          return
        }
        if (scanned >= budget.scan) return
      }
    }
    case 'receipts': {
      const rows = await receiptWindow(deps.db, run.cursor, budget.scan)
      const old = rows.filter((r) => r.received_at < now - RECEIPT_RETENTION_MS).map((r) => r.key)
      run.receipts_deleted += await deleteReceipts(deps.db, old)
      run.cursor = rows.at(-1)?.key ?? run.cursor
      if (rows.length < budget.scan) {
        run.phase = NEXT_PHASE.receipts
        run.cursor = null
      }
      return
    }
    case 'links': {
      const n = await deleteSpentLinks(deps.db, now - LINK_RETENTION_MS, 1000)
      run.links_deleted += n
      if (n < 1000) run.phase = NEXT_PHASE.links
      return
    }
    case 'mail_log': {
      const n = (await deps.mail.purgeLog?.(now - MAIL_LOG_RETENTION_MS, { limit: 500 })) ?? 0
      run.mail_logs_deleted += n
      if (n < 500) run.phase = NEXT_PHASE.mail_log
      return
    }
    case 'done':
      return
  }
}

/** Runs a whole pass now (the command line, the tests): steps until the run is done. */
export async function runRetention(
  deps: Deps,
  by: { trigger: RetentionRunRow['trigger']; actor: string },
  onStep?: (run: RetentionRunRow) => void,
): Promise<RetentionRunRow> {
  let run = await startRetentionRun(deps, by)
  while (run.status === 'running') {
    const next = await advanceRetentionRun(deps, run.id)
    if (!next) break
    // Held by another process: wait for its step to end.
    if (next.locked_until !== null && next.locked_until > deps.clock.now())
      await new Promise((r) => setTimeout(r, 200))
    run = next
    onStep?.(run)
  }
  return run
}

/**
 * The scheduled job: continues the run in progress, or starts one a day after the last began; a few
 * steps each time, within a couple of seconds (the next minute goes on).
 */
export async function scheduledRetention(deps: Deps): Promise<RetentionRunRow | undefined> {
  let run = await runningRetentionRun(deps.db)
  if (!run) {
    const [last] = await listRetentionRuns(deps.db, 1)
    if (last && deps.clock.now() - last.started_at < RUN_EVERY_MS) return undefined
    run = await startRetentionRun(deps, { trigger: 'schedule', actor: 'system' })
  }
  const started = Date.now()
  for (let i = 0; i < 20 && run?.status === 'running' && Date.now() - started < 2_000; i++) {
    const next = await advanceRetentionRun(deps, run.id)
    if (!next || next.locked_until !== null) return next
    run = next
  }
  return run
}
