/**
 * @module BENCH_PIN=1: the servers on some CPUs, the load generators on the others. When the load
 * generator shares the cores with the server, a closed-loop ratio says how the two shared them as
 * much as what the server does (bench/results.md, "Twelfth pass"). Pinned with `taskset`
 * (util-linux), every process a scenario loads (the servers, the in-process loops, the SMTP servers,
 * wrangler's workerd) runs on the first half of the CPUs, and the bench's own process, which makes
 * the load, on the other half: a ratio then compares the servers' own CPU a request. A seeded
 * database the run builds first is built before the pinning, on every CPU.
 */
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'

export interface Pinning {
  /** CPU list (taskset's syntax) of the processes under load. */
  servers: string
  /** CPU list of this process, which generates the load. */
  generators: string
}

const cpuList = (from: number, to: number) => (to - from === 1 ? `${from}` : `${from}-${to - 1}`)

/** The split for BENCH_PIN's `value` on `n` CPUs: none when unset or 0. */
export function pinningFor(value: string | undefined, n: number): Pinning | undefined {
  if (!value || value === '0') return undefined
  if (n < 2)
    throw new Error('BENCH_PIN needs at least 2 CPUs: one for the servers, one for the load')
  const half = Math.floor(n / 2)
  return { servers: cpuList(0, half), generators: cpuList(half, n) }
}

export const pinning = pinningFor(process.env.BENCH_PIN, cpus().length)

/** How to spawn `command args` as a process under load: under `taskset -c <servers>` when pinned. */
export function serverCommand(command: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', pinning.servers, command, ...args]] : [command, args]
}

/** Moves every thread of this process to the generators' CPUs (when pinned); call it first. */
export function pinThisProcess(): void {
  if (!pinning) return
  try {
    execFileSync('taskset', ['-a', '-p', '-c', pinning.generators, String(process.pid)], {
      stdio: 'ignore',
    })
  } catch (err) {
    throw new Error(
      `BENCH_PIN needs taskset (Debian: apt-get install -y util-linux): ${(err as Error).message}`,
    )
  }
}
