/** @module Runs one scenario in its own child process and returns its numbers. */
import { HOST } from '../apps/http-apps.ts'
import { firstLine, startChild, stopChild } from './children.ts'
import { closedLoop, type ClosedLoopOptions } from '../load/closed-loop.ts'
import { cpuSeconds, peakRssMb } from './proc-stats.ts'
import { mailLoad } from '../load/mail-load.ts'
import { marketingMail } from '../load/marketing-mail.ts'
import { openLoop } from '../load/open-loop.ts'
import type { LoadOptions } from '../load/http-connection.ts'
import type {
  BenchOptions,
  HttpScenario,
  InprocScenario,
  Measurement,
  Scenario,
  SeedScenario,
  SmtpScenario,
  WorkersScenario,
} from '../types.ts'
import { seededEmail, SEEDED_CONTACTS } from '../apps/seeded-app.ts'
import { benchContacts } from '../seed/work-copy.ts'
import { newsletterGranted } from '../seed/history.ts'

/**
 * `fixedRate` (HTTP scenarios only) measures latency at that rate, open loop, for at least
 * `minDurationS` (else the run's duration), instead of the highest rate the scenario reaches.
 */
export function measure(
  s: Exclude<Scenario, SeedScenario | WorkersScenario>,
  opts: BenchOptions,
  fixedRate?: { rate: number; minDurationS?: number },
): Promise<Measurement> {
  switch (s.kind) {
    case 'http':
      return measureHttp(s, opts, fixedRate)
    case 'inproc':
      return measureInproc(s, opts)
    case 'smtp':
      return measureSmtp(s, opts)
  }
}

const SETTLE_MS = 500

/** The line bench/processes/server.ts prints once its apps listen. */
interface ServerInfo {
  ports: Record<string, number>
  headers: Record<string, Record<string, string>>
  pathParams: Record<string, Record<string, string>>
  pools: Record<string, Record<string, string[]>>
}

/** Fills `{name}` in a path from the pools, taking each pool's values in turn. */
export function poolFiller(pools: Record<string, string[]> = {}) {
  const turns = new Map<string, number>()
  return (path: string) =>
    path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const pool = pools[name]
      if (!pool?.length) throw new Error(`No pool {${name}} for ${path} from the app`)
      const turn = turns.get(name) ?? 0
      turns.set(name, turn + 1)
      return encodeURIComponent(pool[turn % pool.length]!)
    })
}

/** `/p/{token}` with the app's `token`; a placeholder the app does not fill is a mistake. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined) throw new Error(`No value for {${name}} in ${path} from the app`)
    return encodeURIComponent(value)
  })
}

async function measureHttp(
  s: HttpScenario,
  opts: BenchOptions,
  fixedRate?: { rate: number; minDurationS?: number },
): Promise<Measurement> {
  const server = startChild('./server.ts', [s.app])
  try {
    const info = JSON.parse(await firstLine(server)) as ServerInfo
    const { path, next, ...request } = s.request
    const base = {
      url: `http://${HOST}:${info.ports[s.app]}${fillPath(path, info.pathParams[s.app])}`,
      connections: opts.connections,
      method: request.method ?? 'GET',
      body: request.body,
      headers: { ...info.headers[s.app], ...request.headers },
      next,
      fill: poolFiller(info.pools[s.app]),
    }
    // Warm-up: JIT, connection pools and SQLite's page cache, none of which production starts cold.
    // Its requests are made as they are sent; its rate sizes the requests made ahead for the run.
    const warm = await closedLoop({ ...base, durationS: opts.warmupS })
    // At a fixed rate, where latency is the point, the server first finishes what the warm-up's last
    // answers left it to do (SETTLE_MS is ample for that).
    if (fixedRate !== undefined) await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
    const prebuild = requestsAhead(warm.rate, opts.durationS)
    const durationS = Math.max(opts.durationS, fixedRate?.minDurationS ?? 0)
    const cpuBefore = cpuSeconds(server.pid!)
    const m =
      fixedRate === undefined
        ? await closedLoopRun({ ...base, prebuild }, opts)
        : await fixedRateLoop(base, durationS, fixedRate.rate)
    const cpuUsPerReq = ((cpuSeconds(server.pid!) - cpuBefore) * 1e6) / (m.rate * durationS)
    // Read before stopping: /proc/<pid> goes with the process.
    return { ...m, cpuUsPerReq, peakRssMb: peakRssMb(server.pid!) }
  } finally {
    await stopChild(server)
  }
}

const problemsOf = (counts: Record<string, number>) =>
  Object.entries(counts).flatMap(([what, n]) => (n > 0 ? [`${n} ${what}`] : []))

/** Requests made ahead of a closed-loop run, as a multiple of the warm-up's rate times its length. */
const PREBUILD_MARGIN = 3
const PREBUILD_PER_SECOND = 4_000

/**
 * How many requests to make before a closed-loop run of `durationS`: the warm-up's rate with a
 * margin, and at least `perSecond` a second, since a server still warming up (the webhook thread
 * loads its code, workerd compiles) under-sizes its warm-up's rate.
 */
export const requestsAhead = (
  warmRate: number,
  durationS: number,
  perSecond = PREBUILD_PER_SECOND,
) => Math.max(Math.ceil(warmRate * durationS * PREBUILD_MARGIN) + 1_000, perSecond * durationS)

/** As many requests as `connections` connections get answered, each sent when the last returns. */
async function closedLoopRun(
  o: Omit<ClosedLoopOptions, 'durationS'>,
  opts: BenchOptions,
): Promise<Omit<Measurement, 'peakRssMb'>> {
  const result = await closedLoop({ ...o, durationS: opts.durationS })
  return {
    rate: result.rate,
    unit: 'req/s',
    p50Ms: result.hist.percentileMs(50),
    p99Ms: result.hist.percentileMs(99),
    problems: problemsOf({
      errors: result.errors,
      'non-2xx': result.non2xx,
      'requests made during the run (too few made ahead)': result.madeLate,
    }),
  }
}

/**
 * Latency counts from each request's due time, so a generator that sends late only makes p99 worse;
 * past this it is the client's latency as much as the server's, and the row says so.
 */
const LAG_LIMIT_MS = 5

/** `rate` requests/s on a fixed schedule, whatever the answers do (bench/load/open-loop.ts). */
async function fixedRateLoop(
  o: Omit<LoadOptions, 'durationS'>,
  durationS: number,
  rate: number,
): Promise<Omit<Measurement, 'peakRssMb'>> {
  const result = await openLoop({ ...o, rate, durationS })
  const lagging =
    result.sendLagP99Ms > LAG_LIMIT_MS
      ? [`generator lag p99 ${result.sendLagP99Ms.toFixed(1)} ms`]
      : []
  const perKind = Object.fromEntries(
    [...result.perKind].map(([kind, k]) => [
      kind,
      { answered: k.answered, p99Ms: k.hist.percentileMs(99) },
    ]),
  )
  const kindProblems = [...result.perKind].flatMap(([kind, k]) =>
    problemsOf({ [`${kind} errors`]: k.errors, [`${kind} non-2xx`]: k.non2xx }),
  )
  return {
    perKind: result.perKind.size > 0 ? perKind : undefined,
    generatorCpuUsPerReq: result.cpuUsPerReq,
    rate: result.rate,
    unit: 'req/s',
    p50Ms: result.hist.percentileMs(50),
    p99Ms: result.hist.percentileMs(99),
    problems: [
      ...(kindProblems.length > 0
        ? kindProblems
        : problemsOf({ errors: result.errors, 'non-2xx': result.non2xx })),
      ...problemsOf({ unanswered: result.unanswered }),
      ...lagging,
    ],
  }
}

async function measureInproc(s: InprocScenario, opts: BenchOptions): Promise<Measurement> {
  const child = startChild('./inproc.ts', [s.name, String(opts.durationS), String(opts.warmupS)])
  try {
    const m = JSON.parse(await firstLine(child)) as Measurement
    // A batch scenario counts items (contacts decided), not calls.
    return s.itemsPerOp ? { ...m, rate: m.rate * s.itemsPerOp, unit: 'items/s' } : m
  } finally {
    await stopChild(child)
  }
}

/**
 * A campaign's recipients on the large seeded database: 10,000 contacts spread over it whose
 * newsletter consent stands (the relay refuses the others, as it should).
 */
function seededRecipients(): number[] {
  const total = benchContacts()
  const step = Math.max(1, Math.floor(total / 10_000))
  const out: number[] = []
  for (let i = 0; i < total && out.length < 10_000; i += step) if (newsletterGranted(i)) out.push(i)
  return out
}

/** Composed once per run, in the load generator (this process). */
let mail: ReturnType<typeof marketingMail> | undefined

/**
 * A fresh sink and a fresh server in two child processes (the server's peak RSS is its own), the
 * generator here: the same layout for the baseline and the relay.
 */
async function measureSmtp(s: SmtpScenario, opts: BenchOptions): Promise<Measurement> {
  const { message } = await (mail ??= marketingMail())
  const campaign = s.seeded ? seededRecipients() : []
  const sink = startChild('./mail-server.ts', ['smtp-sink'])
  try {
    const { port: sinkPort } = JSON.parse(await firstLine(sink)) as { port: number }
    const server = startChild('./mail-server.ts', [s.app, `smtp://${HOST}:${sinkPort}`])
    try {
      const info = JSON.parse(await firstLine(server)) as {
        port: number
        auth: { user: string; pass: string }
      }
      const result = await mailLoad({
        host: HOST,
        port: info.port,
        auth: info.auth,
        connections: opts.smtpConnections,
        warmupS: opts.warmupS,
        durationS: opts.durationS,
        // Each message to the next seeded contact (bench/apps/seeded-app.ts), as a campaign goes;
        // on the large seeded database, to contacts spread over it.
        next: s.seeded
          ? (n) => message(n, seededEmail(campaign[n % campaign.length]!))
          : (n) => message(n, seededEmail(n % SEEDED_CONTACTS)),
        expectReply: s.expectReply,
      })
      const problems = problemsOf({
        refused: result.refused,
        'unexpected replies': result.unexpected,
      })
      return {
        rate: result.rate,
        unit: 'msg/s',
        p50Ms: result.hist.percentileMs(50),
        p99Ms: result.hist.percentileMs(99),
        peakRssMb: peakRssMb(server.pid!),
        // Kept short and free of `|`: it ends up in a Markdown table cell.
        problems: result.firstProblem
          ? [...problems, `first: ${result.firstProblem.replace(/[|\s]+/g, ' ').slice(0, 120)}`]
          : problems,
      }
    } finally {
      await stopChild(server)
    }
  } finally {
    await stopChild(sink)
  }
}
