/** @module Starting bench child processes and making sure none outlives the run. */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serverCommand } from './pinning.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const live = new Set<ChildProcess>()

// Last resort if the parent dies with children running (children also watch their stdin).
process.on('exit', () => live.forEach((c) => c.kill('SIGKILL')))
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    live.forEach((c) => c.kill('SIGKILL'))
    process.exit(signal === 'SIGINT' ? 130 : 143)
  })

let profiled = 0

/**
 * The V8 flags `npm start` gives the gateway (package.json's start script: a young generation of
 * 8 MB semi-spaces and an old one of at most 384 MB, which keep its peak RSS near 270 MB under load
 * instead of 300–380, README "Memory"; pretenuring off and the old generation's growth fixed,
 * src/runtime/node/heap.ts, whose flags a test keeps in that script): every bench process runs with
 * them, baselines included, so that the rows measure the server as it is started.
 */
const START_FLAGS: string[] = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start
  .split(/\s+/)
  .filter((arg) => /^--(?!import$)[\w-]+(=\d+)?$/.test(arg))

/**
 * BENCH_CPU_PROF=<dir>: each child writes V8 CPU profiles when it exits (open them in Chrome
 * DevTools' Performance tab) into a folder of dir named after its script and first argument, e.g.
 * `mail-server-relay-3/`: one file per thread, the largest being the main thread's (tsx's loader
 * runs in a thread of its own). NODE_OPTIONS refuses --cpu-prof, hence this.
 */
function profiling(script: string, args: string[]): string[] {
  const dir = process.env.BENCH_CPU_PROF
  if (!dir) return []
  const what = [basename(script, '.ts'), ...args.slice(0, 1)].join('-').replace(/[^\w.-]+/g, '_')
  return ['--cpu-prof', `--cpu-prof-dir=${join(dir, `${what}-${++profiled}`)}`]
}

/**
 * `node --import tsx bench/processes/<script>`: process.execPath rather than `npx tsx`, so the pid we
 * hold is the process doing the work and its /proc status is the one we want (`taskset`, when
 * BENCH_PIN puts it first, runs node in its own place: the pid stays the same).
 */
export function startChild(script: string, args: string[]): ChildProcess {
  const path = fileURLToPath(new URL(script, import.meta.url))
  const [command, argv] = serverCommand(process.execPath, [
    ...START_FLAGS,
    ...profiling(script, args),
    '--import',
    'tsx',
    path,
    ...args,
  ])
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** The child's first stdout line; rejects if it exits first. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const end = buffered.indexOf('\n')
      if (end < 0) return
      child.stdout?.off('data', onData)
      child.off('exit', onExit)
      resolve(buffered.slice(0, end))
    }
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`bench child exited (${signal ?? code}) before reporting`))
    child.stdout?.on('data', onData)
    child.once('exit', onExit)
  })
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
