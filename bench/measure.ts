/** @module Runs one scenario in its own child process and returns its numbers. */
import autocannon from 'autocannon'
import { HOST } from './apps.ts'
import { firstLine, startChild, stopChild } from './children.ts'
import { Histogram, peakRssMb } from './hist.ts'
import type { HttpScenario, InprocScenario, Scenario } from './scenarios.ts'

export interface BenchOptions {
  durationS: number
  warmupS: number
  connections: number
}

export interface Measurement {
  rate: number
  unit: 'req/s' | 'ops/s' | 'items/s'
  p50Ms: number
  p99Ms: number
  peakRssMb: number
  /** Anything that makes the numbers suspect: errors, non-2xx answers, timeouts. */
  problems: string[]
}

export function measure(s: Scenario, opts: BenchOptions): Promise<Measurement> {
  return s.kind === 'http' ? measureHttp(s, opts) : measureInproc(s, opts)
}

async function measureHttp(s: HttpScenario, opts: BenchOptions): Promise<Measurement> {
  const server = startChild('./server.ts', [s.app])
  try {
    const { ports, headers } = JSON.parse(await firstLine(server)) as {
      ports: Record<string, number>
      headers: Record<string, Record<string, string>>
    }
    const { path, ...request } = s.request
    const base = {
      url: `http://${HOST}:${ports[s.app]}${path}`,
      connections: opts.connections,
      ...request,
      headers: { ...headers[s.app], ...request.headers },
    }
    // Warm-up: JIT, connection pools and SQLite's page cache, none of which production starts cold.
    await autocannon({ ...base, duration: opts.warmupS })
    // Our own histogram: autocannon's keeps whole milliseconds, too coarse for a fast p50.
    const hist = new Histogram()
    const run = autocannon({ ...base, duration: opts.durationS })
    run.on('response', (_client, _status, _bytes, ms) => hist.record(ms * 1e6))
    const result = await run
    const problems = Object.entries({
      errors: result.errors,
      timeouts: result.timeouts,
      'non-2xx': result.non2xx,
    }).flatMap(([what, n]) => (n > 0 ? [`${n} ${what}`] : []))
    return {
      rate: result.requests.total / result.duration,
      unit: 'req/s',
      p50Ms: hist.percentileMs(50),
      p99Ms: hist.percentileMs(99),
      peakRssMb: peakRssMb(server.pid!), // read before stopping: /proc/<pid> goes with the process
      problems,
    }
  } finally {
    await stopChild(server)
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
