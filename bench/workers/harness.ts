/**
 * @module The Worker of the bench (bench/workers/entry.ts: the gateway beside a bare Hono app) served
 * by wrangler's dev server in local workerd (bench/workers/serve.ts, in a child process: what
 * `wrangler dev --local --persist-to` runs, its inspector off), on a local D1 in a temporary folder,
 * on loopback only. The D1 gets the
 * repository's migrations (`wrangler d1 migrations apply --local`), then the same seeded contacts as
 * the Node bench's seeded app (bench/apps/seeded-app.ts) and an API key, made by the gateway's own
 * code on a migrated local copy and written out as SQL the way `consent-gateway --d1-sql` does (README
 * "Deploying to Cloudflare Workers"; src/runtime/node/d1-sql.ts), applied with `wrangler d1 execute
 * --local`. Link tokens are signed with keys derived from APP_SECRET alone, so the tokens made here
 * open the Worker's pages.
 *
 * Nothing may reach the internet: wrangler's telemetry, its update check (made with the banner) and
 * miniflare's request.cf fetch are off (bench/workers/config.ts).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { preferencesUrl } from '../../src/domain/sending/links.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { newMessageId } from '../../src/mail/headers.ts'
import { d1SqlFile, diffAsSql, openD1Copy, snapshot } from '../../src/runtime/node/d1-sql.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { HOST } from '../apps/http-apps.ts'
import { linkPools, seedContacts, seededConfig } from '../apps/seeded-app.ts'
import { serverCommand } from '../processes/pinning.ts'
import { OFFLINE_ENV, WRANGLER_CONFIG } from './config.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js')
const SERVE = fileURLToPath(new URL('./serve.ts', import.meta.url))

export interface RunningWorker {
  /** The Worker's own socket in workerd (past wrangler's dev proxy, see `userWorker`). */
  port: number
  /** That workerd's pid, for its CPU time and peak RSS (the Worker and its local D1 both run in it). */
  workerdPid: number
  /** The API key's header for the gate, as the Node seeded app gives. */
  headers: Record<string, string>
  pathParams: Record<string, string>
  pools: Record<string, string[]>
  stop(): Promise<void>
}

/** A free loopback port (asked of the kernel, then released for wrangler to take). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, HOST, () => {
      const address = s.address()
      const port = typeof address === 'object' && address ? address.port : 0
      s.close(() => resolve(port))
    })
  })
}

function wrangler(args: string[], persistTo: string) {
  const r = spawnSync(
    process.execPath,
    [WRANGLER, ...args, '--config', WRANGLER_CONFIG, '--persist-to', persistTo],
    {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV, CI: '1' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  if (r.status !== 0)
    throw new Error(`wrangler ${args.slice(0, 3).join(' ')} failed:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/**
 * The seeded contacts, the API key and the link tokens, made by the gateway's code on a migrated
 * local copy of D1 (an empty one, as `--d1-sql` starts from) and written as SQL to `file`. The
 * seeded contacts' confirmation mails are left out: the Node bench never delivers them either, and
 * the Worker would otherwise deliver them in the middle of a measurement.
 */
async function seedSql(file: string) {
  const sqlite = openD1Copy(undefined)
  const before = snapshot(sqlite)
  try {
    const deps = await nodeDeps({
      config: seededConfig(),
      sqlite,
      logger: jsonLogger(() => {}),
      mail: { name: 'sink', send: async (m) => ({ messageId: newMessageId(m.from) }) },
    })
    const ids = await seedContacts(deps, sqlite)
    const key = await createApiKey(deps, { name: 'bench', scopes: ['gate', 'send'] })
    if (!key.ok) throw new Error(key.error)
    const preferencesToken = new URL(await preferencesUrl(deps, ids[7]!)).pathname.split('/').pop()!
    const pools = await linkPools(deps, ids.slice(0, 1_000))
    // Let a unit still in the group-commit window land before comparing (as src/cli/context.ts).
    await new Promise((resolve) => setImmediate(resolve))
    sqlite.exec('DELETE FROM outbox')
    writeFileSync(file, d1SqlFile(diffAsSql(before, sqlite), 'bench seed'), { mode: 0o600 })
    return { key: key.key, preferencesToken, pools }
  } finally {
    before.close()
    sqlite.close()
  }
}

/** Each process's parent and name, from /proc. */
function processTable() {
  const table = new Map<number, { parent: number; name: string }>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      table.set(Number(entry), {
        name: stat.slice(stat.indexOf('(') + 1, close),
        parent: Number(stat.slice(close + 2).split(' ')[1]),
      })
    } catch {
      // gone meanwhile
    }
  }
  return table
}

/** The TCP ports `pid` listens on (its sockets' inodes matched in /proc/net/tcp). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>()
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))
      if (m) inodes.add(m[1]!)
    } catch {
      // closed meanwhile
    }
  }
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '0A' && inodes.has(f[9]!)) // 0A: LISTEN
    .map((f) => parseInt(f[1]!.split(':')[1]!, 16))
}

/**
 * wrangler's dev server runs two workerd processes: its proxy, on the port asked for, which forwards
 * every request, and the Worker's own. The bench loads the Worker's own socket, as a deployed Worker
 * is reached without that hop (the proxy spent more CPU per request than the bare Worker itself):
 * the workerd below `root` other than the proxy, and its port that answers the bare app.
 */
async function userWorker(root: number, proxyPort: number) {
  const table = processTable()
  const below = (pid: number) => {
    for (let p = table.get(pid)?.parent; p !== undefined && p > 1; p = table.get(p)?.parent)
      if (p === root) return true
    return false
  }
  for (const [pid, { name }] of table) {
    if (name !== 'workerd' || !below(pid)) continue
    const ports = listeningPorts(pid)
    if (ports.includes(proxyPort)) continue
    for (const port of ports) {
      try {
        const res = await fetch(`http://${HOST}:${port}/bare/hello`)
        if (res.status === 200 && (await res.text()) === '{"ok":true}') return { pid, port }
      } catch {
        // another of its sockets
      }
    }
  }
  throw new Error("The Worker's own workerd was not found below wrangler's dev server")
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `url` answers 200 (wrangler builds, then workerd starts), or fails after `ms`. */
async function ready(url: string, child: ChildProcess, ms: number) {
  const until = Date.now() + ms
  let last = ''
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `wrangler's dev server exited (${child.signalCode ?? child.exitCode}) before serving`,
      )
    try {
      const res = await fetch(url)
      if (res.status === 200) return
      last = `${res.status} ${(await res.text()).slice(0, 300)}`
    } catch (err) {
      last = String(err)
    }
    await sleep(250)
  }
  throw new Error(`${url} did not answer 200 within ${ms / 1000} s (last: ${last})`)
}

/**
 * Starts the bench's Worker: migrations and seed into a fresh local D1, then wrangler's dev server. `say`
 * gets progress lines. Stop it with `stop()` (the folder goes with it).
 */
export async function startWorker(say: (line: string) => void = () => {}): Promise<RunningWorker> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-workers-'))
  const persistTo = join(dir, 'state')
  let child: ChildProcess | undefined
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      // Its own process group (detached): wrangler and the workerd it started, by that group's id.
      process.kill(-child.pid!, 'SIGTERM')
      const timer = setTimeout(() => process.kill(-child!.pid!, 'SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(dir, { recursive: true, force: true })
  }
  const onExit = () => {
    if (child?.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL')
  }
  process.once('exit', onExit)
  try {
    say('workers: applying migrations to a local D1 ...')
    wrangler(['d1', 'migrations', 'apply', 'DB', '--local'], persistTo)
    say('workers: seeding it through the gateway code (as --d1-sql) ...')
    const seedFile = join(dir, 'seed.sql')
    const seeded = await seedSql(seedFile)
    wrangler(['d1', 'execute', 'DB', '--local', '--yes', '--file', seedFile], persistTo)
    rmSync(seedFile)

    const proxyPort = await freePort()
    say(`workers: wrangler's dev server (local workerd) on ${HOST}:${proxyPort} ...`)
    const [command, argv] = serverCommand(process.execPath, [
      '--import',
      'tsx',
      SERVE,
      persistTo,
      String(proxyPort),
    ])
    child = spawn(command, argv, {
      cwd: ROOT,
      env: { ...process.env, ...OFFLINE_ENV },
      detached: true,
      // Its output (wrangler's warnings) is kept for an error message; stdin held open so that it
      // exits when this process goes.
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let tail = ''
    const keep = (chunk: Buffer) => (tail = (tail + chunk.toString('utf8')).slice(-4_000))
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    try {
      await ready(`http://${HOST}:${proxyPort}/bare/hello`, child, 120_000)
      await ready(`http://${HOST}:${proxyPort}/healthz`, child, 30_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\nwrangler said:\n${tail}`)
    }
    const own = await userWorker(child.pid!, proxyPort)
    return {
      port: own.port,
      workerdPid: own.pid,
      headers: { Authorization: `Bearer ${seeded.key}`, 'Content-Type': 'application/json' },
      pathParams: { preferencesToken: seeded.preferencesToken },
      pools: seeded.pools,
      stop: async () => {
        process.off('exit', onExit)
        await stop()
      },
    }
  } catch (err) {
    process.off('exit', onExit)
    await stop()
    throw err
  }
}
