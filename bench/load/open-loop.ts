/**
 * @module A fixed-rate (open-loop) load generator, for latency targets stated "at N requests/s".
 *
 * autocannon's `overallRate` is not one: each connection sends back to back until it has used its
 * share of the second, then waits for the next second, all connections on the same tick. The server
 * sees a full-concurrency burst at the start of every second and its p99 is the saturated one.
 * Here request i is due at start + i / rate whatever happened before, and its latency runs from that
 * due time (as wrk2 does), so a stall also counts against the requests it held back (no coordinated
 * omission). At most `connections` keep-alive connections, one request in flight on each; a request
 * due while all are busy waits for the first one free.
 *
 * Plain sockets, with every request's bytes made before the clock starts: see
 * bench/load/http-connection.ts.
 */
import { Histogram } from './histogram.ts'
import {
  open,
  requestMaker,
  type Connection,
  type LoadOptions,
  type WireRequest,
} from './http-connection.ts'

export interface OpenLoopOptions extends LoadOptions {
  /** Requests per second. */
  rate: number
  /** How long to wait for the last answers after the last request was sent. */
  drainMs?: number
}

export interface OpenLoopResult {
  /** Answers received, per second of the schedule. */
  rate: number
  hist: Histogram
  sent: number
  errors: number
  non2xx: number
  /** Still unanswered `drainMs` after the end of the schedule. */
  unanswered: number
  /** How late the generator itself sent its requests (p99, ms): high means the numbers are suspect. */
  sendLagP99Ms: number
  /** A mix (requests with a `kind`): each kind's latencies and failures. */
  perKind: Map<string, { hist: Histogram; answered: number; errors: number; non2xx: number }>
  /**
   * This process's CPU time per request sent, from the clock's start to the last answer (the
   * requests were made before). Its work is the same in every run, so it tells how fast the machine
   * was: see `generatorCpuUsPerReq` in bench/types.ts.
   */
  cpuUsPerReq: number
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url)
  const hist = new Histogram()
  const lag = new Histogram()
  const interval = 1000 / o.rate
  const total = Math.floor(o.durationS * o.rate)
  const requests = Array.from({ length: o.next ? total : 1 }, requestMaker(o))
  let sent = 0
  let answered = 0
  let errors = 0
  let non2xx = 0
  let inflight = 0
  let scheduleDone = false
  let wake: () => void = () => {}
  /** Requests due while every connection was busy: [due time, request bytes]. */
  const backlog: [number, WireRequest][] = []
  const perKind: OpenLoopResult['perKind'] = new Map()
  const kindOf = (c: Connection) => {
    if (c.kind === undefined) return undefined
    let k = perKind.get(c.kind)
    if (!k) perKind.set(c.kind, (k = { hist: new Histogram(), answered: 0, errors: 0, non2xx: 0 }))
    return k
  }
  let backlogAt = 0

  const done = (c: Connection, due: number, status: number | null) => {
    inflight--
    const kind = kindOf(c)
    if (status === null) {
      errors++
      if (kind) kind.errors++
    } else {
      const ns = (performance.now() - due) * 1e6
      hist.record(ns)
      answered++
      const bad = status < 200 || status >= 300
      if (bad) non2xx++
      if (kind) {
        kind.hist.record(ns)
        kind.answered++
        if (bad) kind.non2xx++
      }
    }
    // The oldest waiting request goes on this connection, or on another free one if this one died.
    const free = c.dead ? connections.find((x) => !x.busy && !x.dead) : c
    if (free && backlogAt < backlog.length) {
      const [nextDue, bytes] = backlog[backlogAt++]!
      free.send(bytes, nextDue)
    }
    if (scheduleDone && inflight === 0) wake()
  }
  // Connected before the clock starts, as the request bytes are made.
  const connections = await Promise.all(
    Array.from({ length: o.connections }, () => open(url, done)),
  )

  function send(due: number, bytes: WireRequest) {
    inflight++
    const free = connections.find((c) => !c.busy && !c.dead)
    if (free) free.send(bytes, due)
    else if (connections.every((c) => c.dead)) {
      inflight--
      errors++
    } else backlog.push([due, bytes])
  }

  const start = performance.now()
  const cpuAtStart = process.cpuUsage()
  await new Promise<void>((resolve) => {
    wake = resolve
    const tick = () => {
      const now = performance.now()
      for (
        let due = start + sent * interval;
        sent < total && due <= now;
        due = start + sent * interval
      ) {
        lag.record(Math.max(1, (now - due) * 1e6))
        send(due, requests[o.next ? sent : 0]!)
        sent++
      }
      if (sent < total) {
        setTimeout(tick, Math.max(0, start + sent * interval - performance.now()))
        return
      }
      scheduleDone = true
      if (inflight === 0) resolve()
      // Answers still missing after the drain period are counted, not waited for.
      else setTimeout(resolve, o.drainMs ?? 10_000).unref()
    }
    tick()
  })
  const unanswered = inflight
  const cpu = process.cpuUsage(cpuAtStart)
  for (const c of connections) c.close()
  return {
    rate: answered / o.durationS,
    hist,
    sent,
    errors,
    non2xx,
    unanswered,
    sendLagP99Ms: lag.percentileMs(99),
    perKind,
    cpuUsPerReq: (cpu.user + cpu.system) / Math.max(1, sent),
  }
}
