/**
 * @module The closed-loop load generator of every HTTP row, baseline included: `connections`
 * keep-alive connections, each sending its next request as soon as the last is answered.
 *
 * Plain sockets and request bytes made before the clock starts (bench/load/http-connection.ts), as
 * in bench/load/open-loop.ts. The generator shares the two CPUs with the server, so what it costs per
 * request is taken from the server: autocannon spent 18–22 µs of CPU on the bare GET but 89–99 µs on
 * a webhook request with a body of its own, which it rebuilt on every call. Here: 16–17 µs and
 * 35–66 µs (sending 5 KB), so a row and its baseline lose nearly the same to the generator.
 */
import { Histogram } from './histogram.ts'
import {
  open,
  requestMaker,
  type Connection,
  type LoadOptions,
  type WireRequest,
} from './http-connection.ts'

export interface ClosedLoopOptions extends LoadOptions {
  /**
   * How many `next` requests to make before the clock starts (past them, each is made as it is
   * sent, and `madeLate` says how many were). Sized from a warm-up's rate.
   */
  prebuild?: number
}

export interface ClosedLoopResult {
  /** Answers per second. */
  rate: number
  hist: Histogram
  errors: number
  non2xx: number
  /** Requests made during the run because the prebuilt ones ran out. */
  madeLate: number
}

export async function closedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const url = new URL(o.url)
  const make = requestMaker(o)
  const fixed = o.next ? undefined : make()
  const prebuilt = o.next ? Array.from({ length: o.prebuild ?? 0 }, make) : []
  let used = 0
  let madeLate = 0
  const nextRequest = (): WireRequest => {
    if (fixed) return fixed
    if (used < prebuilt.length) return prebuilt[used++]!
    madeLate++
    return make()
  }

  const hist = new Histogram()
  let answered = 0
  let errors = 0
  let non2xx = 0
  let running = true
  let inflight = 0
  let settle: () => void = () => {}
  const done = (c: Connection, sentAt: number, status: number | null) => {
    inflight--
    if (status === null) errors++
    else if (running) {
      hist.record((performance.now() - sentAt) * 1e6)
      answered++
      if (status < 200 || status >= 300) non2xx++
    }
    if (running && !c.dead) {
      inflight++
      c.send(nextRequest(), performance.now())
    } else if (inflight === 0) settle()
  }
  // Connected before the clock starts, as the request bytes are made.
  const connections = await Promise.all(
    Array.from({ length: o.connections }, () => open(url, done)),
  )
  const start = performance.now()
  for (const c of connections) {
    inflight++
    c.send(nextRequest(), performance.now())
  }
  await new Promise((resolve) => setTimeout(resolve, o.durationS * 1000))
  running = false
  const elapsedS = (performance.now() - start) / 1000
  // The answers still on their way are not counted; they are let in (briefly) so that the server is
  // idle before the next measurement starts.
  await new Promise<void>((resolve) => {
    settle = resolve
    if (inflight === 0) resolve()
    setTimeout(resolve, 2_000).unref()
  })
  for (const c of connections) c.close()
  return { rate: answered / elapsedS, hist, errors, non2xx, madeLate }
}
