/**
 * @module A process's peak RSS and CPU time from /proc, read by the parent for the servers it starts
 * and by the in-process child for itself.
 */
import { readFileSync } from 'node:fs'

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
