/**
 * @module The Node edge: what every response carries, done on the socket where it costs least. A
 * header set through Hono (`c.header`, or a middleware after `next()`) makes a WHATWG Headers
 * object, which takes @hono/node-server off its fast path. Here the static security headers and the
 * request id join the route's own headers in the one `writeHead` call that @hono/node-server makes,
 * as a flat list, instead of ten `setHeader` calls that Node then merges one by one: less time a
 * response, and a fixed page served more requests/s, on less CPU, behind this edge than behind a
 * `setHeader` one (as measured: bench/results.md, "Measurements behind design choices"). The
 * request id is assigned and the access-log line written here too; `createApp(deps, { edge })` then
 * skips its own copies. A route's own header wins over a default.
 */
import { randomUUID } from 'node:crypto'
import {
  createServer,
  ServerResponse,
  type IncomingMessage,
  type OutgoingHttpHeader,
  type OutgoingHttpHeaders,
  type RequestListener,
} from 'node:http'
import { serve, type ServerType } from '@hono/node-server'
import type { Context } from 'hono'
import { createApp, securityHeaderOptions, type AppEdge } from '../../app.ts'
import type { Deps } from '../../deps.ts'
import { HtmlParts } from '../../lib/html-bytes.ts'
import type { Logger } from '../../lib/log.ts'
import { logRequest } from '../../middleware/access-log.ts'
import { securityHeaderList } from '../../middleware/security-headers.ts'

const REQUEST_ID = Symbol('requestId')
type Tagged = IncomingMessage & { [REQUEST_ID]?: string }

/**
 * How long an idle keep-alive connection stays open. Node closes it after 5 s by default, while the
 * reverse proxies in front of a gateway keep theirs to it for 60 s (nginx's upstream keepalive_timeout,
 * AWS load balancers' idle timeout) or more: a proxy that reuses a connection at the moment Node
 * closes it gets a reset, and answers its client 502 (a webhook or a page lost). Past the proxies'
 * timeout, the proxy is the side that closes. Headers must still arrive within their own timeout,
 * which Node wants above this one.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000
const HEADERS_TIMEOUT_MS = 66_000

/** The same rule as hono/request-id: a proxy's id is kept when it is a sane token. */
const VALID_ID = /^[\w\-=]{1,255}$/

export interface NodeEdge {
  /** For createApp: the id this listener gave the request. */
  app: AppEdge
  /** For @hono/node-server's `serve({ createServer })`. */
  createServer: typeof createServer
}

type Own = OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined

/** A route's own headers as one flat list, from any of the shapes `writeHead` takes. */
function flatten(own: Own): OutgoingHttpHeader[] {
  if (!own) return []
  if (!Array.isArray(own)) {
    const flat: OutgoingHttpHeader[] = []
    for (const name in own) flat.push(name, own[name]!)
    return flat
  }
  return own.length > 0 && Array.isArray(own[0]) ? (own as OutgoingHttpHeader[][]).flat() : own
}

export function nodeEdge(headers: readonly [string, string][], logger: Logger): NodeEdge {
  const defaults = headers.map(([name, value]) => [name, name.toLowerCase(), value] as const)

  /** A response that adds the defaults and the request id in its one `writeHead`. */
  class EdgeResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
    requestId = ''
    // Node's own `_implicitHeader` (a body written without `writeHead`) calls this too.
    override writeHead(status: number, reason?: string | Own, own?: Own): this {
      const phrase = typeof reason === 'string' ? reason : undefined
      if (phrase === undefined) own = reason as Own
      const routes = flatten(own)
      const mine = new Set<string>()
      for (let i = 0; i < routes.length; i += 2) mine.add(String(routes[i]).toLowerCase())
      const flat: OutgoingHttpHeader[] = []
      // A header set earlier with setHeader is the route's too (hasHeader is a map lookup).
      for (const [name, lower, value] of defaults)
        if (!mine.has(lower) && !this.hasHeader(lower)) flat.push(name, value)
      if (!mine.has('x-request-id') && !this.hasHeader('x-request-id'))
        flat.push('X-Request-Id', this.requestId)
      for (const item of routes) flat.push(item)
      return phrase === undefined
        ? super.writeHead(status, flat)
        : super.writeHead(status, phrase, flat)
    }

    // A page's parts (src/lib/html-bytes.ts) go out one after another, in one writev: the shared
    // ones are never copied. @hono/node-server set Content-Length from the parts' total already.
    override end(chunk?: unknown, encoding?: unknown, cb?: unknown): this {
      if (!(chunk instanceof HtmlParts))
        return super.end(chunk as never, encoding as never, cb as never)
      this.cork()
      for (const part of chunk.parts) this.write(part)
      super.end(encoding as never, cb as never)
      this.uncork()
      return this
    }
  }

  const wrap =
    (inner: RequestListener): RequestListener =>
    (incoming: Tagged, outgoing) => {
      const start = performance.now()
      const given = incoming.headers['x-request-id']
      const id = typeof given === 'string' && VALID_ID.test(given) ? given : randomUUID()
      incoming[REQUEST_ID] = id
      ;(outgoing as EdgeResponse).requestId = id
      // The listener's promise settles once the response is handed to the socket. It is not meant
      // to reject; should it, the error is logged here rather than left to crash the process. (The
      // callbacks are unnamed on purpose: tsx keeps function names, at a defineProperty per named
      // closure, and these are made per request.)
      void Promise.resolve(inner(incoming, outgoing)).then(
        () => logDone(logger, id, incoming, outgoing, start),
        (err: unknown) => {
          logger.log('error', 'response failed', { requestId: id, err })
          logDone(logger, id, incoming, outgoing, start)
        },
      )
    }
  return {
    app: {
      requestId: (c: Context) =>
        (c.env as { incoming?: Tagged } | undefined)?.incoming?.[REQUEST_ID],
      textBytes: (text: string) => Buffer.byteLength(text),
      noExecutionContext: true,
    },
    createServer: ((options: object, listener: RequestListener) => {
      const server = createServer({ ...options, ServerResponse: EdgeResponse }, wrap(listener))
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
      server.headersTimeout = HEADERS_TIMEOUT_MS
      return server
    }) as typeof createServer,
  }
}

/** The access-log line of a request the edge has answered. */
function logDone(
  logger: Logger,
  id: string,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  start: number,
): void {
  logRequest(
    logger,
    id,
    incoming.method,
    incoming.url ?? '',
    outgoing.statusCode,
    performance.now() - start,
  )
}

/** The gateway app behind the Node edge on `port` (0: any free one): how `npm start` serves it. */
export function serveGateway(
  deps: Deps,
  address: { port: number; hostname: string },
  listening?: () => void,
): ServerType {
  const edge = nodeEdge(securityHeaderList(securityHeaderOptions(deps)), deps.logger)
  const app = createApp(deps, { edge: edge.app })
  return serve({ fetch: app.fetch, ...address, createServer: edge.createServer }, listening)
}
