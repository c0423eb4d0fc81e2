/**
 * @module `npm run bench`: measures the baselines, then every scenario in bench/scenarios/list.ts,
 * each in a child process of its own (and, for a scenario with a latency target at a fixed rate, that
 * too), and prints the Markdown table (also written to bench/results.md).
 * Progress goes to stderr so stdout holds only the table.
 */
import { measure } from './processes/measure.ts'
import { header, ratioOf, table, targetMet, writeResults, type Row } from './report.ts'
import { baselines, scenarios } from './scenarios/list.ts'
import type { BaselineName, BenchOptions, Measurement } from './types.ts'

function positive(name: string, fallback: number): number {
  const raw = process.env[name]
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`)
  return value
}

const opts: BenchOptions = {
  durationS: positive('BENCH_DURATION', 3),
  warmupS: positive('BENCH_WARMUP', 1),
  connections: Math.round(positive('BENCH_CONNECTIONS', 50)),
  smtpConnections: Math.round(positive('BENCH_SMTP_CONNECTIONS', 16)),
}

const head = header(opts)
console.error(head)
const rows: Row[] = []
const measured = {} as Record<BaselineName, Measurement>
for (const [key, s] of Object.entries(baselines) as [
  BaselineName,
  (typeof baselines)[BaselineName],
][]) {
  console.error(`baseline  ${s.name} ...`)
  measured[key] = await measure(s, opts)
  rows.push({ name: s.name, m: measured[key] })
}
// A shared 2-core machine drifts by ±20 % within minutes, so each scenario is measured in ROUNDS
// alternating with its baseline, and the ratio is taken between the two medians of those rounds.
const rounds = Math.round(positive('BENCH_ROUNDS', 3))
const median = (ms: Measurement[], by: (m: Measurement) => number = (m) => m.rate) =>
  [...ms].sort((a, b) => by(a) - by(b))[Math.floor(ms.length / 2)]!
// BENCH_ONLY=text measures only the scenarios whose name contains it (their baselines still run).
const only = process.env.BENCH_ONLY
for (const s of scenarios.filter((x) => !only || x.name.includes(only))) {
  console.error(`scenario  ${s.name} (${rounds} rounds against ${baselines[s.baseline].name}) ...`)
  const mine: Measurement[] = []
  const theirs: Measurement[] = []
  for (let r = 0; r < rounds; r++) {
    theirs.push(await measure(baselines[s.baseline], opts))
    mine.push(await measure(s, opts))
  }
  const base = { name: baselines[s.baseline].name, rate: median(theirs).rate }
  rows.push({ name: s.name, baseline: base, target: s.target, m: median(mine) })
  console.error(`          ${(ratioOf(rows.at(-1)!)! * 100).toFixed(1)} % of ${base.name}`)
  const rates = (ms: Measurement[]) => ms.map((m) => Math.round(m.rate)).join(', ')
  console.error(`          rounds: ${rates(mine)} against ${rates(theirs)} ${median(mine).unit}`)
  const cpu = (ms: Measurement[]) => ms.map((m) => Math.round(m.cpuUsPerReq ?? NaN)).join(', ')
  if (s.kind === 'http')
    console.error(`          server CPU µs/req: ${cpu(mine)} against ${cpu(theirs)}`)
  // A latency target "at N req/s": ROUNDS more runs at that fixed rate, the median p99 reported.
  if (s.kind === 'http' && s.fixedRate) {
    const { ofMax, target } = s.fixedRate
    const rate = ofMax * median(mine).rate
    console.error(`          p99 at ${Math.round(rate)} req/s, open loop (${rounds} rounds) ...`)
    const runs: Measurement[] = []
    for (let r = 0; r < rounds; r++) runs.push(await measure(s, opts, rate))
    const m = median(runs, (x) => x.p99Ms)
    const name = `${s.name}, at a fixed rate`
    rows.push({ name, fixedRate: { rate, ofMax, baseline: base }, target, m })
    console.error(
      `          p99 ${m.p99Ms.toFixed(2)} ms (runs: ${runs.map((x) => x.p99Ms.toFixed(2)).join(', ')})`,
    )
  }
}

console.log(table(rows))
writeResults(head, opts, rows)

// Numbers taken while requests failed, or a missed target, should fail a scripted run.
const bad = rows.filter((r) => r.m.problems.length > 0 || !targetMet(r))
for (const r of bad)
  console.error(`bench: ${r.name}: ${r.m.problems.join(', ') || 'target missed'}`)
process.exitCode = bad.length > 0 ? 1 : 0
