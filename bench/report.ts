/** @module The Markdown table printed by `npm run bench` and kept in bench/results.md. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import type { BenchOptions, Measurement, Target } from './types.ts'

export interface Row {
  name: string
  /** Absent on baseline rows. */
  baseline?: { name: string; rate: number }
  /**
   * A latency row: the scenario sent at a fixed rate, `ofMax` times the highest rate it reached in
   * the row above, `baseline` the baseline of those rounds (for scale, not for a ratio).
   */
  fixedRate?: { rate: number; ofMax: number; baseline: { name: string; rate: number } }
  target?: Target
  m: Measurement
}

/** The scenario's rate over its baseline's; undefined for a baseline row. */
export const ratioOf = (row: Row) => (row.baseline ? row.m.rate / row.baseline.rate : undefined)

export function targetMet(row: Row): boolean {
  const t = row.target
  if (t?.minRatio !== undefined && (ratioOf(row) ?? 1) < t.minRatio) return false
  if (t?.maxP99Ms !== undefined && !(row.m.p99Ms < t.maxP99Ms)) return false
  return true
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const int = (x: number) => Math.round(x).toLocaleString('en-US')

/** Sub-millisecond values in µs (a SQLite lookup takes a few of them), a second and more in s. */
function latency(ms: number): string {
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`
  return `${ms.toPrecision(3)} ms`
}

function target(row: Row): string {
  const t = row.target
  const parts = [
    t?.minRatio === undefined ? [] : [`>= ${+(t.minRatio * 100).toFixed(1)} %`],
    t?.maxP99Ms === undefined ? [] : [`p99 < ${t.maxP99Ms} ms`],
  ].flat()
  if (parts.length === 0) return '—'
  return `${parts.join(', ')} ${targetMet(row) ? 'pass' : '**FAIL**'}`
}

function baselineCell(row: Row): string {
  const f = row.fixedRate
  if (f)
    return (
      `fixed rate, open loop: ${pct(f.ofMax)} of the max above = ${int(f.rate)}/s` +
      ` (${pct(f.rate / f.baseline.rate)} of ${f.baseline.name}'s ${int(f.baseline.rate)}/s)`
    )
  return row.baseline
    ? `${row.baseline.name} (${int(row.baseline.rate)}/s, same rounds)`
    : '(baseline)'
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
    return [
      row.m.problems.length ? `${row.name} (${row.m.problems.join(', ')})` : row.name,
      baselineCell(row),
      `${int(row.m.rate)} ${row.m.unit}`,
      latency(row.m.p50Ms),
      latency(row.m.p99Ms),
      row.m.cpuUsPerReq === undefined ? '—' : `${Math.round(row.m.cpuUsPerReq)} µs`,
      row.m.peakRssMb.toFixed(1),
      ratio === undefined ? '—' : pct(ratio),
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
    ` · ${opts.smtpConnections} SMTP connections`
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

export function writeResults(head: string, opts: BenchOptions, rows: Row[]): void {
  const dir = new URL('./', import.meta.url)
  const file = new URL('results.md', dir)
  const kept = keptSection(file)
  const md = [
    '# Benchmark results',
    '',
    head,
    '',
    table(rows),
    '',
    'Written by `npm run bench` (bench/run.ts). HTTP scenarios are compared with the bare Hono',
    'endpoint, in-process ones with the raw better-sqlite3 primary-key lookup or insert transaction,',
    'SMTP ones with a plain smtp-server that forwards each message through nodemailer, unchanged, to',
    'the same sink smtp-server the relay forwards to (bench/apps/mail-apps.ts); their rate counts',
    'messages answered 250, which comes only once the sink has taken them.',
    'A "fixed rate, open loop" row is the scenario above it sent at a fixed share of the highest rate',
    'it reached, each request due at its time whatever the answers do, latency counted from that due',
    'time (bench/load/open-loop.ts): its target is on p99.',
    '',
  ].join('\n')
  writeFileSync(file, kept ? `${md}\n${kept}` : md)
  // Machine-readable copy for comparing runs; gitignored, unlike results.md.
  writeFileSync(
    new URL('results.json', dir),
    `${JSON.stringify({ header: head, options: opts, rows }, null, 2)}\n`,
  )
}
