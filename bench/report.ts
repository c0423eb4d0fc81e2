/** @module The Markdown table printed by `npm run bench` and kept in bench/results.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { pinning } from './processes/pinning.ts'
import type { BenchOptions, Measurement, Target } from './types.ts'

export interface Row {
  name: string
  /** Absent on baseline rows; `rate` is the median of the rounds, `when` says when if not now. */
  baseline?: { name: string; rate: number; when?: string }
  /**
   * A latency row: the scenario sent at a fixed rate, `ofMax` times the median rate it reached in the
   * row above (absent when the rate is fixed in requests/s), `baseline` the baseline of those rounds
   * (for scale, not for a ratio).
   */
  fixedRate?: { rate: number; ofMax?: number; baseline?: { name: string; rate: number } }
  target?: Target
  /** The median round (its peak RSS the highest of the rounds). */
  m: Measurement
  /** Every round, for the spread. */
  rounds: Measurement[]
  /** Each round's rate over its baseline round's, when the row has a baseline. */
  ratios?: number[]
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/**
 * The median of the rounds' ratios to their baseline rounds (the scenario's rate over its baseline's
 * when there are no rounds); undefined for a baseline row.
 */
export const ratioOf = (row: Row) =>
  row.ratios?.length
    ? median(row.ratios)
    : row.baseline
      ? row.m.rate / row.baseline.rate
      : undefined

/** A target counts as met when the median meets it; peak RSS when the highest round does. */
export function targetMet(row: Row): boolean {
  const t = row.target
  if (t?.minRatio !== undefined && (ratioOf(row) ?? 1) < t.minRatio) return false
  if (t?.maxP99Ms !== undefined && !(row.m.p99Ms < t.maxP99Ms)) return false
  if (t?.maxPeakRssMb !== undefined && !(row.m.peakRssMb < t.maxPeakRssMb)) return false
  return true
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const int = (x: number) => Math.round(x).toLocaleString('en-US')

/** Sub-millisecond values in µs (a SQLite lookup takes a few of them), a second and more in s. */
function latency(ms: number): string {
  if (!Number.isFinite(ms)) return '—'
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`
  return `${ms.toPrecision(3)} ms`
}

function target(row: Row): string {
  const t = row.target
  const parts = [
    t?.minRatio === undefined ? [] : [`>= ${+(t.minRatio * 100).toFixed(1)} %`],
    t?.maxP99Ms === undefined ? [] : [`p99 < ${t.maxP99Ms} ms`],
    t?.maxPeakRssMb === undefined ? [] : [`RSS < ${t.maxPeakRssMb} MB`],
  ].flat()
  if (parts.length === 0) return '—'
  return `${parts.join(', ')} ${targetMet(row) ? 'pass' : '**FAIL**'}`
}

function baselineCell(row: Row): string {
  const f = row.fixedRate
  if (f) {
    const what =
      f.ofMax === undefined
        ? `fixed rate, open loop: ${int(f.rate)}/s`
        : `fixed rate, open loop: ${pct(f.ofMax)} of the median above = ${int(f.rate)}/s`
    return f.baseline
      ? `${what} (${pct(f.rate / f.baseline.rate)} of ${f.baseline.name}'s ${int(f.baseline.rate)}/s)`
      : what
  }
  if (!row.baseline) return '(baseline)'
  return `${row.baseline.name} (${int(row.baseline.rate)}/s, ${row.baseline.when ?? 'same rounds'})`
}

/**
 * The server's CPU per request; at a fixed rate also the load generator's, in every run (its work is
 * the same each time: when it costs more, the machine was slower; bench/types.ts).
 */
function cpuCell(row: Row): string {
  if (row.m.cpuUsPerReq === undefined) return '—'
  const server = `${Math.round(row.m.cpuUsPerReq)} µs`
  const load = row.rounds.flatMap((m) => m.generatorCpuUsPerReq ?? [])
  return load.length ? `${server} (load generator ${load.map(Math.round).join(', ')} µs)` : server
}

/** `median (min–max)` over the rounds when there are several. */
function spread(value: string, xs: number[], show: (x: number) => string): string {
  if (xs.length < 2) return value
  return `${value} (${show(Math.min(...xs))}–${show(Math.max(...xs))})`
}

export function table(rows: Row[]): string {
  const head = [
    'Scenario',
    'Baseline',
    'Rate',
    'p50',
    'p99',
    'Server CPU / req',
    'Peak RSS MB',
    'vs baseline',
    'Target',
  ]
  const lines = rows.map((row) => {
    const ratio = ratioOf(row)
    const rates = row.rounds.map((m) => m.rate)
    const p99s = row.rounds.map((m) => m.p99Ms)
    const notes = [...row.m.problems, ...(row.m.note ? [row.m.note] : [])]
    return [
      notes.length ? `${row.name} (${notes.join('; ')})` : row.name,
      baselineCell(row),
      row.fixedRate
        ? `${int(row.m.rate)} ${row.m.unit}`
        : spread(`${int(row.m.rate)} ${row.m.unit}`, rates, int),
      latency(row.m.p50Ms),
      row.fixedRate ? spread(latency(row.m.p99Ms), p99s, latency) : latency(row.m.p99Ms),
      cpuCell(row),
      Number.isFinite(row.m.peakRssMb) ? row.m.peakRssMb.toFixed(1) : '—',
      ratio === undefined ? '—' : spread(pct(ratio), row.ratios ?? [], pct),
      target(row),
    ]
  })
  return [head, head.map(() => '---'), ...lines]
    .map((cells) => `| ${cells.join(' | ')} |`)
    .join('\n')
}

/** One line saying where and how the numbers were taken, since they mean little without it. */
export function header(opts: BenchOptions): string {
  const cpu = cpus()
  return (
    `Run ${new Date().toISOString()} · Node ${process.version} · ${cpu.length} CPUs` +
    ` (${cpu[0]?.model.trim() ?? 'unknown'}) · ${opts.durationS} s per scenario after` +
    ` ${opts.warmupS} s warm-up · ${opts.connections} HTTP connections` +
    ` · ${opts.smtpConnections} SMTP connections` +
    (pinning
      ? ` · pinned (BENCH_PIN): servers on CPU ${pinning.servers}, load generators on CPU ${pinning.generators}`
      : '')
  )
}

/**
 * The hand-written part of results.md, from this heading to the end: measurements that comments in
 * src/ point to, taken apart from `npm run bench`. A run rewrites the table above it and keeps it.
 */
const KEPT_HEADING = '## Measurements behind design choices'

/** The kept section of the results.md at `file` (heading included), or '' when it has none. */
function keptSection(file: URL): string {
  if (!existsSync(file)) return ''
  const old = readFileSync(file, 'utf8')
  const at = old.indexOf(`\n${KEPT_HEADING}\n`)
  return at < 0 ? '' : old.slice(at + 1)
}

/** What the table means, written below it. */
const EXPLANATION = [
  'Written by `npm run bench` (bench/run.ts). Each scenario is measured in rounds (BENCH_ROUNDS,',
  'default 3), each round right after a round of its baseline, so that both see the same machine; a',
  'row gives the median round, the spread of the rounds in brackets (min–max), and the median of the',
  "rounds' ratios to their baselines; a target counts as met when that median meets it, and a peak",
  'RSS target when the highest round does. HTTP scenarios are compared with a bare Hono endpoint or',
  "with a floor: the gate's JSON body posted to a bare Hono route behind the gateway's Node edge",
  '(the POST floor, for the gate and sends), or the preference page as a fixed string behind the',
  'same edge (the page floor); in-process ones with the raw better-sqlite3 primary-key lookup or',
  'insert transaction; SMTP ones with a plain smtp-server that forwards each message through',
  'nodemailer, unchanged, to the same sink smtp-server the relay forwards to',
  '(bench/apps/mail-apps.ts), their rate counting messages answered 250, which comes only once the',
  'sink has taken them. A "fixed rate, open loop" row is the scenario above it sent at a fixed',
  'rate or share of its median rate, each request due at its time whatever the answers do, latency',
  'counted from that due time (bench/load/open-loop.ts): its target is on p99; the mixed load is',
  'measured that way only, and fails on any error. Their CPU column also gives the load',
  "generator's CPU time a request in each run: its work is the same in every run, so a higher",
  'figure says the machine itself was slower then. Rows marked "seeded" run on a database of',
  "BENCH_CONTACTS contacts with five consent events each, built through the gateway's own code",
  '(bench/seed/) and cached in bench/.cache/; its build row compares the rows written per second',
  'with a raw insert of as many rows of the same size, both timed when it was built.',
]

export function writeResults(head: string, opts: BenchOptions, rows: Row[]): void {
  const dir = new URL('./', import.meta.url)
  const file = new URL('results.md', dir)
  const kept = keptSection(file)
  const md = ['# Benchmark results', '', head, '', table(rows), '', ...EXPLANATION, ''].join('\n')
  writeFileSync(file, kept ? `${md}\n${kept}` : md)
  // Machine-readable copy for comparing runs; gitignored, unlike results.md.
  writeFileSync(
    new URL('results.json', dir),
    `${JSON.stringify({ header: head, options: opts, rows }, null, 2)}\n`,
  )
}
