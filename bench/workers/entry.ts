/**
 * @module The Worker the bench runs in local workerd (bench/workers/harness.ts): the gateway itself
 * (src/worker.ts) and, under /bare/, a bare Hono app, both in this one Worker, so that the gateway's
 * requests and the baseline's are served by the same workerd process and isolate, and the ratio
 * between them is the gateway's own cost on Workers. Each request goes one way or the other on its
 * path alone. A request carrying `X-Bench-No-Wait-Until` reaches the gateway without an execution
 * context, so the Worker starts no work after answering it (the outbox deliveries a commit would
 * start are left to the cron, which does not fire here): the webhook's intake alone, as the Node
 * intake row measures it (bench/scenarios/workers.ts).
 */
import { Hono } from 'hono'
import gateway from '../../src/worker.ts'
import type { WorkerEnv } from '../../src/runtime/worker/deps.ts'

// The gateway's log lines are built (that cost is real) but go nowhere, as in the Node bench
// (bench/apps/http-apps.ts): under wrangler's dev server each console line is passed on to
// wrangler's own process to be printed, a cost a deployed Worker does not pay.
const drop = () => {}
console.log = console.info = console.warn = console.error = console.debug = drop

const bare = new Hono().basePath('/bare').get('/hello', (c) => c.json({ ok: true }))

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith('/bare/')) return bare.fetch(request, env, ctx)
    // Without a context, the gateway defers nothing (src/app.ts reads it as Node's: none).
    const noWait = request.headers.has('x-bench-no-wait-until')
    return gateway.fetch(request, env, noWait ? (undefined as unknown as ExecutionContext) : ctx)
  },
} satisfies ExportedHandler<WorkerEnv>
