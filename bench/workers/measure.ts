/**
 * @module Measures the Workers rows (bench/types.ts, WorkersScenario): one Worker in local workerd for
 * the whole run (bench/workers/harness.ts), started with the first such row, so the bare Hono
 * baseline and the gateway's rows are served by the same workerd process, rounds alternating as for
 * the Node rows (bench/run.ts). The load generator is the Node rows' own (bench/load/closed-loop.ts);
 * the server's CPU time per request and peak RSS are workerd's, which runs both the Worker and its
 * local D1.
 */
import { HOST } from '../apps/http-apps.ts'
import { closedLoop } from '../load/closed-loop.ts'
import { fillPath, poolFiller, requestsAhead } from '../processes/measure.ts'
import { cpuSeconds, peakRssMb } from '../processes/proc-stats.ts'
import type { BenchOptions, Measurement, WorkersScenario } from '../types.ts'
import { startWorker, type RunningWorker } from './harness.ts'

let running: Promise<RunningWorker> | undefined

/** The run's Worker, started on first use. */
function worker(): Promise<RunningWorker> {
  return (running ??= startWorker((line) => console.error(`          ${line}`)))
}

/** Stops the run's Worker, if one was started (bench/run.ts, at the end). */
export async function stopWorkers(): Promise<void> {
  const w = running
  running = undefined
  if (w) await (await w).stop()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `pid` uses under 5 % of a CPU over a quarter of a second, for 15 s at most. */
async function idle(pid: number) {
  const until = Date.now() + 15_000
  while (Date.now() < until) {
    const before = cpuSeconds(pid)
    await sleep(250)
    if (cpuSeconds(pid) - before < 0.0125) return
  }
}

/** The floor of requests made ahead, a second of run (workerd answers fewer than Node). */
const PREBUILD_PER_SECOND = 2_000

export async function measureWorkers(s: WorkersScenario, opts: BenchOptions): Promise<Measurement> {
  const w = await worker()
  const { path, next, ...request } = s.request
  const base = {
    url: `http://${HOST}:${w.port}${fillPath(path, w.pathParams)}`,
    connections: opts.connections,
    method: request.method ?? 'GET',
    body: request.body,
    headers: { ...w.headers, ...request.headers },
    next,
    fill: poolFiller(w.pools),
  }
  // The same workerd serves every row: what the last one left it to do (deliveries after its
  // commits, through waitUntil) is finished first.
  await idle(w.workerdPid)
  const warm = await closedLoop({ ...base, durationS: opts.warmupS })
  const prebuild = requestsAhead(warm.rate, opts.durationS, PREBUILD_PER_SECOND)
  const cpuBefore = cpuSeconds(w.workerdPid)
  const result = await closedLoop({ ...base, durationS: opts.durationS, prebuild })
  const cpuUsPerReq =
    result.rate > 0
      ? ((cpuSeconds(w.workerdPid) - cpuBefore) * 1e6) / (result.rate * opts.durationS)
      : undefined
  const problems = Object.entries({
    errors: result.errors,
    'non-2xx': result.non2xx,
    'requests made during the run (too few made ahead)': result.madeLate,
  }).flatMap(([what, n]) => (n > 0 ? [`${n} ${what}`] : []))
  // The Worker answered nothing within the run (busy with earlier work, its waitUntil).
  if (result.rate === 0) problems.push('no answer within the run')
  return {
    rate: result.rate,
    unit: 'req/s',
    p50Ms: result.hist.percentileMs(50),
    p99Ms: result.hist.percentileMs(99),
    cpuUsPerReq,
    // workerd's peak since it started: the same process serves every Workers row of the run.
    peakRssMb: peakRssMb(w.workerdPid),
    problems,
  }
}
