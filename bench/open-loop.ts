/**
 * @module A fixed-rate (open-loop) load generator, for latency targets stated "at N requests/s".
 *
 * autocannon's `overallRate` is not one: each connection sends back to back until it has used its
 * share of the second, then waits for the next second, all connections on the same tick. The server
 * sees a full-concurrency burst at the start of every second and its p99 is the saturated one.
 * Here request i is due at start + i / rate whatever happened before, and its latency runs from that
 * due time (as wrk2 does), so a stall also counts against the requests it held back (no coordinated
 * omission). Node's own HTTP client, on keep-alive connections at most `connections` of them.
 */
import { Agent, request } from 'node:http'
import { Histogram } from './hist.ts'

export interface OpenLoopOptions {
  url: string
  method: string
  headers: Record<string, string>
  body?: string | Buffer
  next?: () => { body: string | Buffer; headers?: Record<string, string> }
  /** Requests per second. */
  rate: number
  durationS: number
  connections: number
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
}

export async function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url)
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections })
  const hist = new Histogram()
  const lag = new Histogram()
  const interval = 1000 / o.rate
  const total = Math.floor(o.durationS * o.rate)
  let sent = 0
  let answered = 0
  let errors = 0
  let non2xx = 0
  let inflight = 0
  let scheduleDone = false
  let wake: () => void = () => {}
  const settled = () => {
    inflight--
    if (scheduleDone && inflight === 0) wake()
  }

  // Every request's body and headers are made before the clock starts: signing 5 KB webhooks on the
  // schedule made the generator itself late by 5 to 10 ms at p99, and that lag counted as latency.
  const requests = Array.from({ length: o.next ? total : 1 }, () => {
    const { body = '', headers = {} } = o.next ? o.next() : { body: o.body }
    return {
      body,
      headers: { ...o.headers, ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
    }
  })

  function send(due: number) {
    const { body, headers } = requests[o.next ? sent : 0]!
    let done = false
    const finish = (ok: boolean) => {
      if (done) return
      done = true
      if (!ok) errors++
      settled()
    }
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: o.method,
        headers,
      },
      (res) => {
        res.on('data', () => {})
        res.on('error', () => finish(false))
        res.on('end', () => {
          hist.record((performance.now() - due) * 1e6)
          answered++
          if (!res.statusCode || res.statusCode < 200 || res.statusCode >= 300) non2xx++
          finish(true)
        })
      },
    )
    req.on('error', () => finish(false))
    inflight++
    req.end(body)
  }

  const start = performance.now()
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
        send(due)
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
  agent.destroy()
  return {
    rate: answered / o.durationS,
    hist,
    sent,
    errors,
    non2xx,
    unanswered,
    sendLagP99Ms: lag.percentileMs(99),
  }
}
