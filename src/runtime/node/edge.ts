/**
 * @module The Node edge: what every response carries, done on the socket where it costs least.
 * A header set through Hono (`c.header`, or a middleware after `next()`) makes a WHATWG Headers object,
 * which takes @hono/node-server off its fast path; the static security headers set here with
 * `setHeader` cost nearly nothing (GET /healthz: 15,200 against 27,900 req/s on this machine). The
 * request id is assigned and the access-log line written here too; `createApp(deps, { edge })` then
 * skips its own copies. A route's own header wins: `writeHead` merges over `setHeader`.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type RequestListener } from 'node:http'
import { serve, type ServerType } from '@hono/node-server'
import type { Context } from 'hono'
import { createApp, securityHeaderOptions, type AppEdge } from '../../app.ts'
import type { Deps } from '../../deps.ts'
import type { Logger } from '../../lib/log.ts'
import { logRequest } from '../../middleware/access-log.ts'
import { securityHeaderList } from '../../middleware/security-headers.ts'

const REQUEST_ID = Symbol('requestId')
type Tagged = IncomingMessage & { [REQUEST_ID]?: string }

/** The same rule as hono/request-id: a proxy's id is kept when it is a sane token. */
const VALID_ID = /^[\w\-=]{1,255}$/

export interface NodeEdge {
  /** For createApp: the id this listener gave the request. */
  app: AppEdge
  /** For @hono/node-server's `serve({ createServer })`. */
  createServer: typeof createServer
}

export function nodeEdge(headers: readonly [string, string][], logger: Logger): NodeEdge {
  const wrap =
    (inner: RequestListener): RequestListener =>
    (incoming: Tagged, outgoing) => {
      const start = performance.now()
      const given = incoming.headers['x-request-id']
      const id = typeof given === 'string' && VALID_ID.test(given) ? given : randomUUID()
      incoming[REQUEST_ID] = id
      for (const [name, value] of headers) outgoing.setHeader(name, value)
      outgoing.setHeader('X-Request-Id', id)
      const done = () =>
        logRequest(
          logger,
          id,
          incoming.method,
          incoming.url ?? '',
          outgoing.statusCode,
          performance.now() - start,
        )
      // The listener's promise settles once the response is handed to the socket. It is not meant
      // to reject; should it, the error is logged here rather than left to crash the process.
      void Promise.resolve(inner(incoming, outgoing)).then(done, (err: unknown) => {
        logger.log('error', 'response failed', { requestId: id, err })
        done()
      })
    }
  return {
    app: {
      requestId: (c: Context) =>
        (c.env as { incoming?: Tagged } | undefined)?.incoming?.[REQUEST_ID],
    },
    createServer: ((options: object, listener: RequestListener) =>
      createServer(options, wrap(listener))) as typeof createServer,
  }
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
