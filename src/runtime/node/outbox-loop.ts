/**
 * @module Node's background work: the delivery loop, woken right after a commit that wrote outbox rows
 * and every few seconds, and the periodic jobs (expiry, purges, checkpoints) every minute.
 */
import { deliverOutbox, type DeliveryReport } from '../../domain/platform/outbox.ts'
import { runScheduledJobs } from '../../jobs/scheduler.ts'
import type { Deps } from '../../deps.ts'

export interface OutboxLoop {
  wake(): void
  /** Stops the loop after the delivery in progress, if any. */
  stop(): Promise<void>
}

export function startOutboxLoop(
  deps: Pick<Deps, 'db' | 'clock' | 'logger' | 'outboxHandlers'>,
  intervalMs = 5_000,
  onRun?: (report: DeliveryReport) => void,
): OutboxLoop {
  let stopped = false
  let woken = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> = Promise.resolve()

  const schedule = (ms: number) => {
    if (stopped) return
    clearTimeout(timer)
    timer = setTimeout(run, ms)
    timer.unref?.()
  }
  const run = () => {
    running = (async () => {
      let report: DeliveryReport
      do {
        woken = false
        report = await deliverOutbox(deps).catch((err) => {
          deps.logger.log('error', 'outbox run failed', { err })
          return { delivered: 0, retried: 0, dead: 0 }
        })
        onRun?.(report)
      } while (!stopped && (woken || report.delivered + report.retried + report.dead >= 50))
      schedule(intervalMs)
    })()
  }
  schedule(0)
  return {
    wake() {
      woken = true
      schedule(0)
    },
    async stop() {
      stopped = true
      clearTimeout(timer)
      await running
    },
  }
}

/** Runs the scheduled jobs every `intervalMs` (the Workers build uses its cron trigger instead). */
export function startJobTimer(deps: Deps, intervalMs = 60_000): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve()
  const tick = () => {
    running = runScheduledJobs(deps)
  }
  const first = setTimeout(tick, 1_000)
  const timer = setInterval(tick, intervalMs)
  first.unref?.()
  timer.unref?.()
  return {
    async stop() {
      clearTimeout(first)
      clearInterval(timer)
      await running
    },
  }
}
