/** @module Latency histogram and peak-RSS reading shared by the parent and the child processes. */
import { readFileSync } from 'node:fs'

/** Bucket i holds values near e^(i/100) ns: neighbours differ by 1 %, good enough for p50/p99. */
const STEPS = 100

/**
 * A fixed-size log histogram. Keeping every sample would cost ~8 bytes per op (millions per second
 * for the in-process loops) and inflate the very peak RSS we report.
 */
export class Histogram {
  private readonly counts = new Float64Array(26 * STEPS) // up to e^26 ns, about 3 minutes
  private total = 0

  record(ns: number): void {
    const i = Math.min(this.counts.length - 1, Math.max(0, Math.round(Math.log(ns) * STEPS)))
    this.counts[i]! += 1
    this.total += 1
  }

  /** The p-th percentile (0..100) in milliseconds; 0 when nothing was recorded. */
  percentileMs(p: number): number {
    const rank = (p / 100) * this.total
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= rank && seen > 0) return Math.exp(i / STEPS) / 1e6
    }
    return 0
  }
}

/** Peak resident set size (VmHWM) of a live process, in MB: Linux only, like the servers we ship to. */
export function peakRssMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1]
  if (kb === undefined) throw new Error(`No VmHWM in /proc/${pid}/status`)
  return Number(kb) / 1024
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. The server's CPU time
 * per request is the number that holds when other processes share the CPUs and rates swing.
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100
