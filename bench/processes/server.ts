/**
 * @module Child process serving the apps named in argv on 127.0.0.1, each on its own free port, and
 * printing `{"ports":{...},"headers":{...},"pathParams":{...},"pools":{...}}` (by app name) as one
 * line on stdout. It runs apart from the load generator so that client and server never share an
 * event loop, and so its VmHWM is the server's peak RSS alone.
 */
import { getHeapSpaceStatistics } from 'node:v8'
import { apps, type AppName, type RunningApp } from '../apps/http-apps.ts'

const names = process.argv.slice(2)
for (const name of names)
  if (!(name in apps))
    throw new Error(`Unknown app "${name}"; known: ${Object.keys(apps).join(', ')}`)

const running = new Map<string, RunningApp>()
for (const name of names as AppName[]) running.set(name, await apps[name]())

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  // BENCH_MEMORY=1: where the memory went (V8's heap spaces, arrays outside it), for a peak RSS.
  if (process.env.BENCH_MEMORY) {
    const mb = (n: number) => Math.round(n / 1e5) / 10
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((sp) => [sp.space_name, mb(sp.physical_space_size)]),
    )
    const usage = Object.fromEntries(
      Object.entries(process.memoryUsage()).map(([k, v]) => [k, mb(v)]),
    )
    console.error(`memory of ${names.join(', ')}: ${JSON.stringify({ ...usage, spaces })}`)
  }
  // A stuck close must not leave a server behind: exit anyway after a grace period.
  setTimeout(() => process.exit(1), 3_000).unref()
  await Promise.allSettled([...running.values()].map((app) => app.close()))
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// The parent holds our stdin open: when it goes away, even by SIGKILL, we go too.
process.stdin.on('end', shutdown).on('close', shutdown).resume()

const ports = Object.fromEntries([...running].map(([name, app]) => [name, app.port]))
const headers = Object.fromEntries([...running].map(([name, app]) => [name, app.headers ?? {}]))
const pathParams = Object.fromEntries(
  [...running].map(([name, app]) => [name, app.pathParams ?? {}]),
)
const pools = Object.fromEntries([...running].map(([name, app]) => [name, app.pools ?? {}]))
process.stdout.write(`${JSON.stringify({ ports, headers, pathParams, pools })}\n`)
