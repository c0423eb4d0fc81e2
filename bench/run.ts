/**
 * @module `npm run bench`: measures the baselines, then every scenario in bench/scenarios/list.ts,
 * each in a child process of its own (and, for a scenario with a latency target at a fixed rate, that
 * too), and prints the Markdown table (also written to bench/results.md).
 * Progress goes to stderr so stdout holds only the table.
 */
import { measure as measureHere } from './processes/measure.ts'
import { pinThisProcess } from './processes/pinning.ts'
import { header, ratioOf, table, targetMet, writeResults, type Row } from './report.ts'
import { baselines, scenarios } from './scenarios/list.ts'
import { makeWorkCopy, type WorkCopy } from './seed/work-copy.ts'
import { measureWorkers, stopWorkers } from './workers/measure.ts'
import type { BaselineName, BenchOptions, Measurement, Scenario, SeedScenario } from './types.ts'

type FixedRate = Parameters<typeof measureHere>[2]

function positive(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

/** The Workers rows run in the run's one Worker (bench/workers/measure.ts), the others apart. */
const measure = (s: Exclude<Scenario, SeedScenario>, o: BenchOptions, fixedRate?: FixedRate) =>
  s.kind === 'workers' ? measureWorkers(s, o) : measureHere(s, o, fixedRate)

const opts: BenchOptions = {
  durationS: positive('BENCH_DURATION', 3),
  warmupS: positive('BENCH_WARMUP', 1),
  connections: Math.round(positive('BENCH_CONNECTIONS', 50)),
  smtpConnections: Math.round(positive('BENCH_SMTP_CONNECTIONS', 16)),
}

// BENCH_ONLY=text measures only the scenarios whose name contains it (or any of several texts
// separated by `|`; a text ending in `$` must be the whole name, which leaves out the seeded and
// Workers variants); the baselines they are compared with still run.
const only = process.env.BENCH_ONLY?.split('|').filter(Boolean)
const picks = (name: string, o: string) =>
  o.endsWith('$') ? name === o.slice(0, -1) : name.includes(o)
const chosen = scenarios.filter((x) => !only?.length || only.some((o) => picks(x.name, o)))

const head = header(opts)
console.error(head)
const rows: Row[] = []
// The seeded database, found or built and copied, before the baselines (one of them reads it).
let work: WorkCopy | undefined
if (chosen.some((s) => s.seeded))
  work = await makeWorkCopy((line) => console.error(`          ${line}`))
// BENCH_PIN: from here this process makes the load, on CPUs of its own (bench/processes/pinning.ts);
// not before, so that a seeded build made above has every CPU, as unpinned.
pinThisProcess()
// The baselines the chosen scenarios need, once each, first: the table's reference lines.
const needed = new Set<BaselineName>(['hono-bare'])
for (const s of chosen)
  if (s.kind !== 'seed' && !(s.kind === 'http' && s.openLoopOnly)) needed.add(s.baseline)
for (const [key, s] of Object.entries(baselines) as [BaselineName, Scenario][]) {
  if (!needed.has(key) || s.kind === 'seed') continue
  console.error(`baseline  ${s.name} ...`)
  const m = await measure(s, opts)
  rows.push({ name: s.name, m, rounds: [m] })
}

// A shared 2-core machine drifts by ±20 % within minutes, so each scenario is measured in ROUNDS
// alternating with its baseline (or floor); each round's ratio is the scenario's rate over the
// baseline's just before it, and the row gives the median of those ratios and their spread.
const rounds = Math.round(positive('BENCH_ROUNDS', 3))
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const byMedian = (ms: Measurement[], by: (m: Measurement) => number) => {
  const mid = median(ms.map(by))
  return ms.find((m) => by(m) === mid)!
}

try {
  for (const s of chosen) {
    if (s.kind === 'seed') {
      rows.push(seedRow(s, work!))
      continue
    }
    const base = baselines[s.baseline]
    if (base.kind === 'seed') throw new Error('a seeded build is no baseline')
    const mine: Measurement[] = []
    const theirs: Measurement[] = []
    if (!(s.kind === 'http' && s.openLoopOnly)) {
      console.error(`scenario  ${s.name} (${rounds} rounds against ${base.name}) ...`)
      for (let r = 0; r < rounds; r++) {
        theirs.push(await measure(base, opts))
        mine.push(await measure(s, opts))
      }
      const ratios = mine.map((m, r) => m.rate / theirs[r]!.rate)
      const m = byMedian(mine, (x) => x.rate)
      rows.push({
        name: s.name,
        baseline: { name: base.name, rate: median(theirs.map((x) => x.rate)) },
        target: s.target,
        m: { ...m, peakRssMb: Math.max(...mine.map((x) => x.peakRssMb)) },
        rounds: mine,
        ratios,
      })
      console.error(`          ${(ratioOf(rows.at(-1)!)! * 100).toFixed(1)} % of ${base.name}`)
      const rates = (ms: Measurement[]) => ms.map((x) => Math.round(x.rate)).join(', ')
      console.error(`          rounds: ${rates(mine)} against ${rates(theirs)} ${m.unit}`)
      const cpu = (ms: Measurement[]) => ms.map((x) => Math.round(x.cpuUsPerReq ?? NaN)).join(', ')
      if (s.kind === 'http' || s.kind === 'workers')
        console.error(`          server CPU µs/req: ${cpu(mine)} against ${cpu(theirs)}`)
    }
    // Latency targets at fixed rates: ROUNDS more runs at each, open loop, the median p99 reported.
    if (s.kind !== 'http') continue
    for (const f of s.fixedRates ?? []) {
      const max = mine.length ? byMedian(mine, (x) => x.rate).rate : 0
      const rate = f.rate ?? (f.ofMax ?? 1) * max
      const runs = s.openLoopOnly ? 1 : rounds
      console.error(
        `scenario  ${s.name} at ${Math.round(rate)} req/s, open loop, ` +
          `${Math.max(opts.durationS, f.minDurationS ?? 0)} s (${runs} run${runs > 1 ? 's' : ''}) ...`,
      )
      const ms: Measurement[] = []
      for (let r = 0; r < runs; r++)
        ms.push(await measure(s, opts, { rate, minDurationS: f.minDurationS }))
      const m = byMedian(ms, (x) => x.p99Ms)
      const name = s.openLoopOnly ? s.name : `${s.name}, at a fixed rate`
      const baseline = theirs.length
        ? { name: base.name, rate: median(theirs.map((x) => x.rate)) }
        : undefined
      rows.push({
        name,
        fixedRate: { rate, ofMax: f.rate === undefined ? f.ofMax : undefined, baseline },
        target: f.target,
        m: { ...m, peakRssMb: Math.max(...ms.map((x) => x.peakRssMb)) },
        rounds: ms,
      })
      console.error(
        `          p99 ${m.p99Ms.toFixed(2)} ms (runs: ${ms.map((x) => x.p99Ms.toFixed(2)).join(', ')});` +
          ` load generator CPU µs/req: ${ms.map((x) => Math.round(x.generatorCpuUsPerReq ?? NaN)).join(', ')}`,
      )
      for (const [kind, k] of Object.entries(m.perKind ?? {}))
        console.error(`          ${kind}: ${k.answered} answered, p99 ${k.p99Ms.toFixed(2)} ms`)
    }
  }
} finally {
  work?.remove()
  await stopWorkers()
}

console.log(table(rows))
writeResults(head, opts, rows)

// Numbers taken while requests failed, or a missed target, should fail a scripted run.
const bad = rows.filter((r) => r.m.problems.length > 0 || !targetMet(r))
for (const r of bad)
  console.error(`bench: ${r.name}: ${r.m.problems.join(', ') || 'target missed'}`)
process.exitCode = bad.length > 0 ? 1 : 0

/**
 * The build's row: its rows/s against the raw insert of as many rows of the same size, both measured
 * when the database was built (in this run, or the run that built the cached copy).
 */
function seedRow(s: SeedScenario, w: WorkCopy): Row {
  const { build, baseline, builtAt } = w.seeded
  const when = w.seeded.builtNow ? 'built in this run' : `cached, built ${builtAt.slice(0, 16)}Z`
  console.error(
    `scenario  ${s.name}: ${Math.round(build.rowsPerSecond)} rows/s against ` +
      `${Math.round(baseline.rowsPerSecond)} raw (${when})`,
  )
  return {
    name: s.name,
    baseline: {
      name: `raw better-sqlite3 insert, ${Math.round(baseline.rowBytes)}-byte rows, 10,000 per transaction`,
      rate: baseline.rowsPerSecond,
      when,
    },
    target: s.target,
    m: {
      rate: build.rowsPerSecond,
      unit: 'rows/s',
      p50Ms: NaN,
      p99Ms: NaN,
      peakRssMb: NaN,
      problems: [],
      note:
        `${build.rows.toLocaleString('en-US')} rows in ${build.rowsSeconds.toFixed(0)} s` +
        // Cached builds from before the daily counters have no count of their writes.
        (build.counterWrites === undefined
          ? ', '
          : ` (and ${build.counterWrites.toLocaleString('en-US')} daily counter upserts), `) +
        `${build.cpuUsPerRow.toFixed(1)} µs CPU a row, ${build.threads} builder thread(s) and a ` +
        `writer; checkpoint ${build.checkpointSeconds.toFixed(0)} s; ${(build.fileBytes / 1e9).toFixed(2)} GB`,
    },
    rounds: [],
  }
}
