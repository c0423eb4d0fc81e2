/**
 * @module What both HTTP load generators (bench/load/closed-loop.ts, bench/load/open-loop.ts) send
 * and on what: the load they are given, the request bytes, and keep-alive connections on plain
 * sockets.
 *
 * Plain sockets, with every request's bytes made before the clock starts: the generator shares two
 * CPUs with the server, and Node's HTTP client spent ~250 µs of CPU per request (a quarter of the
 * server's), which starved the server and made the generator itself late by 5 to 20 ms at p99.
 */
import { connect, type Socket } from 'node:net'
import type { NextRequest } from '../types.ts'

/** What both generators send, and on how many connections. */
export interface LoadOptions {
  url: string
  method: string
  headers: Record<string, string>
  body?: string | Buffer
  /** A new request every time (its body, headers, perhaps its method and path). */
  next?: NextRequest
  /** Fills the `{name}` placeholders of a path `next` returns (from the app's pools). */
  fill?: (path: string) => string
  durationS: number
  connections: number
}

/** A request as bytes on the wire, and what kind it is in a mix. */
export interface WireRequest {
  bytes: Buffer
  kind?: string
}

const HEAD_END = Buffer.from('\r\n\r\n')

/**
 * Makes the next request as bytes on the wire (HTTP/1.1, keep-alive by default): `o.next`'s when it
 * has one, the fixed body otherwise.
 */
export function requestMaker(o: LoadOptions): () => WireRequest {
  const url = new URL(o.url)
  return () => {
    const next = o.next ? o.next() : { body: o.body }
    const payload = typeof next.body === 'string' ? Buffer.from(next.body) : (next.body ?? EMPTY)
    const headers = { ...o.headers, ...next.headers, 'Content-Length': String(payload.length) }
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`)
    const path = next.path
      ? (o.fill ?? ((p: string) => p))(next.path)
      : `${url.pathname}${url.search}`
    const head = `${next.method ?? o.method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\n${lines.join('')}\r\n`
    return { bytes: Buffer.concat([Buffer.from(head), payload]), kind: next.kind }
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * One keep-alive connection: sends a request, reads its answer (Content-Length framed: the apps under
 * test answer so), then takes the next waiting one.
 */
export class Connection {
  private pending: Buffer = Buffer.alloc(0)
  private due = 0
  /** The kind of the request in flight (a mix's figures are per kind). */
  kind: string | undefined
  busy = false
  dead = false

  constructor(
    private socket: Socket,
    private done: Done,
  ) {
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    const fail = () => {
      if (this.dead) return
      this.dead = true
      if (this.busy) done(this, this.due, null)
    }
    socket.on('error', fail)
    socket.on('close', fail)
  }

  send(request: WireRequest, due: number) {
    this.busy = true
    this.due = due
    this.kind = request.kind
    this.socket.write(request.bytes)
  }

  private onData(chunk: Buffer) {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    const end = this.pending.indexOf(HEAD_END)
    if (end < 0) return
    const head = this.pending.toString('latin1', 0, end)
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)
    if (!length) {
      // Not framed by length (chunked): not something the apps under test send.
      this.socket.destroy(new Error('load generator: an answer without Content-Length'))
      return
    }
    const total = end + HEAD_END.length + Number(length[1])
    if (this.pending.length < total) return
    this.pending = this.pending.subarray(total)
    this.busy = false
    this.done(this, this.due, Number(head.slice(9, 12)))
  }

  close() {
    this.dead = true
    this.socket.destroy()
  }
}

/** Called once per request: its status, or null when the connection failed. */
export type Done = (c: Connection, due: number, status: number | null) => void

export function open(url: URL, done: Done) {
  return new Promise<Connection>((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname)
    socket.once('connect', () => resolve(new Connection(socket, done)))
    socket.once('error', reject)
  })
}
