/**
 * @module The types the bench shares: what a scenario is (HTTP, in-process or SMTP), its target,
 * the options of a run and what one measurement gives. Types only: any bench file may import them.
 */
import type { AppName } from './apps/http-apps.ts'
import type { MailAppName } from './apps/mail-apps.ts'

export type BaselineName =
  | 'hono-bare'
  | 'post-floor'
  | 'page-floor'
  | 'sqlite-pk'
  | 'sqlite-pk-seeded'
  | 'sqlite-insert'
  | 'smtp-pass-through'
  | 'workers-bare'

/** What a row must show to pass; a row may have any of these. */
export interface Target {
  /** A floor on the scenario's rate as a fraction of its baseline's (0.5 prints as `>= 50 %`). */
  minRatio?: number
  /** A ceiling on p99 latency, in ms (20 prints as `p99 < 20 ms`). */
  maxP99Ms?: number
  /** A ceiling on the server's peak RSS (VmHWM), in MB, the highest of the rounds. */
  maxPeakRssMb?: number
}

interface Common {
  name: string
  /** The baseline this is compared with; absent on the baselines themselves. */
  baseline?: BaselineName
  target?: Target
  /**
   * Runs on the seeded database of BENCH_CONTACTS contacts (bench/seed/cache.ts), built first when
   * the cache has none: the app, setup or relay reads its path from the environment
   * (bench/seed/work-copy.ts).
   */
  seeded?: boolean
}

/**
 * A latency row of its own: the scenario sent at a fixed rate, open loop (bench/load/open-loop.ts),
 * for at least `minDurationS` seconds, its target on p99.
 */
export interface FixedRate {
  /** The rate as a share of the median rate of the scenario's rounds... */
  ofMax?: number
  /** ...or in requests/s. */
  rate?: number
  minDurationS?: number
  target: Target
}

export interface HttpScenario extends Common {
  kind: 'http'
  baseline?: 'hono-bare' | 'post-floor' | 'page-floor'
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
    /** A new request for every request, made in the load generator; sync. */
    next?: NextRequest
  }
  /** Also measure latency at fixed rates, each reported as a row of its own. */
  fixedRates?: FixedRate[]
  /**
   * Only at a fixed rate, never closed loop (the mixed load): its rows are the `fixedRates`, and
   * the scenario is not measured in rounds against a baseline.
   */
  openLoopOnly?: boolean
}

/**
 * The next request of a scenario whose requests differ: a body, headers to add, and possibly another
 * method and path (`{name}` placeholders in it are filled from the app's pools, in turn). `kind`
 * names what it is in a mix, for the per-kind figures.
 */
export type NextRequest = () => {
  body?: string | Buffer
  headers?: Record<string, string>
  method?: string
  path?: string
  kind?: string
}

/** One unit of in-process work; a returned promise is awaited before the next op starts. */
export interface InprocOp {
  op: () => unknown
  close?: () => void | Promise<void>
}

export interface InprocScenario extends Common {
  kind: 'inproc'
  baseline?: 'sqlite-pk' | 'sqlite-pk-seeded' | 'sqlite-insert'
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

/**
 * Building the seeded database (bench/seed/build.ts) against a raw insert of as many rows of the same
 * size, both measured when the database was built: in this run if the cache had none, else in the
 * run that built it (the row says when).
 */
export interface SeedScenario extends Common {
  kind: 'seed'
}

/**
 * An HTTP request to the bench's Worker in local workerd (bench/workers/harness.ts: the gateway and a
 * bare Hono app in one Worker, on a local D1), started once per run and shared by every such row and
 * its baseline, loaded by the same closed-loop generator as the Node rows (bench/workers/measure.ts).
 */
export interface WorkersScenario extends Common {
  kind: 'workers'
  baseline?: 'workers-bare'
  request: HttpScenario['request']
}

export type Scenario = HttpScenario | InprocScenario | SmtpScenario | SeedScenario | WorkersScenario

export interface BenchOptions {
  durationS: number
  warmupS: number
  connections: number
  /** Concurrent senders (one SMTP connection each) of the SMTP scenarios. */
  smtpConnections: number
}

export interface Measurement {
  rate: number
  unit: 'req/s' | 'ops/s' | 'items/s' | 'msg/s' | 'rows/s'
  p50Ms: number
  p99Ms: number
  peakRssMb: number
  /** Anything that makes the numbers suspect: errors, non-2xx answers, timeouts. */
  problems: string[]
  /** HTTP scenarios: the server process's CPU time per answered request, in microseconds. */
  cpuUsPerReq?: number
  /**
   * Fixed-rate runs: the load generator's CPU time per request (µs). It does the same work in every
   * run (send bytes made beforehand, read the answers), so when it climbs the machine itself is
   * slower (another tenant of the host): on the 2-core machine the intake's p99 at 1,200/s was
   * 8-12 ms in runs where it cost 79-86 µs and 15-28 ms where it cost 91-114 (bench/results.md,
   * "Seventh pass").
   */
  generatorCpuUsPerReq?: number
  /** A mix: p99 (ms) and answers of each kind of request. */
  perKind?: Record<string, { answered: number; p99Ms: number }>
  /** Said in the row's name (e.g. when a seeded database was built). */
  note?: string
}
