/**
 * @module The types the bench shares: what a scenario is (HTTP, in-process or SMTP), its target,
 * the options of a run and what one measurement gives. Types only: any bench file may import them.
 */
import type { AppName } from './apps/http-apps.ts'
import type { MailAppName } from './apps/mail-apps.ts'

export type BaselineName =
  'hono-bare' | 'page-floor' | 'sqlite-pk' | 'sqlite-insert' | 'smtp-pass-through'

/** What a row must show to pass; a row may have either or both. */
export interface Target {
  /** A floor on the scenario's rate as a fraction of its baseline's (0.5 prints as `>= 50 %`). */
  minRatio?: number
  /** A ceiling on p99 latency, in ms (20 prints as `p99 < 20 ms`). */
  maxP99Ms?: number
}

interface Common {
  name: string
  /** The baseline this is compared with; absent on the baselines themselves. */
  baseline?: BaselineName
  target?: Target
}

export interface HttpScenario extends Common {
  kind: 'http'
  baseline?: 'hono-bare' | 'page-floor'
  app: AppName
  request: {
    method?: string
    /**
     * May hold `{name}` placeholders, filled from the app's `pathParams`
     * (bench/apps/http-apps.ts).
     */
    path: string
    headers?: Record<string, string>
    body?: string
    /** A new body (and headers to add) for every request, made in the load generator; sync. */
    next?: () => { body: string | Buffer; headers?: Record<string, string> }
  }
  /**
   * Also measure latency at a fixed rate: `ofMax` times the median rate of this scenario's rounds,
   * sent open loop (bench/load/open-loop.ts), reported as a row of its own with this target.
   */
  fixedRate?: { ofMax: number; target: Target }
}

/** One unit of in-process work; a returned promise is awaited before the next op starts. */
export interface InprocOp {
  op: () => unknown
  close?: () => void | Promise<void>
}

export interface InprocScenario extends Common {
  kind: 'inproc'
  baseline?: 'sqlite-pk' | 'sqlite-insert'
  /**
   * Runs in a fresh child process (bench/processes/inproc.ts), so imports and state stay out of the
   * parent.
   */
  setup: () => Promise<InprocOp>
  /** For batch operations: items handled per op, so that the rate is items/s. */
  itemsPerOp?: number
}

/**
 * An SMTP server (bench/apps/mail-apps.ts) in its own process, forwarding to a sink in another,
 * loaded by BENCH_SMTP_CONNECTIONS senders on pooled connections (bench/load/mail-load.ts), each
 * sending the ~50 KB newsletter of bench/load/marketing-mail.ts to the seeded recipients in turn.
 * Rate: messages/s answered 250, which these servers answer once the sink took the message.
 */
export interface SmtpScenario extends Common {
  kind: 'smtp'
  baseline?: 'smtp-pass-through'
  app: Exclude<MailAppName, 'smtp-sink'>
  /** Text every 250 must hold (that the server did its work, not something else). */
  expectReply?: string
}

export type Scenario = HttpScenario | InprocScenario | SmtpScenario

export interface BenchOptions {
  durationS: number
  warmupS: number
  connections: number
  /** Concurrent senders (one SMTP connection each) of the SMTP scenarios. */
  smtpConnections: number
}

export interface Measurement {
  rate: number
  unit: 'req/s' | 'ops/s' | 'items/s' | 'msg/s'
  p50Ms: number
  p99Ms: number
  peakRssMb: number
  /** Anything that makes the numbers suspect: errors, non-2xx answers, timeouts. */
  problems: string[]
  /** HTTP scenarios: the server process's CPU time per answered request, in microseconds. */
  cpuUsPerReq?: number
}
