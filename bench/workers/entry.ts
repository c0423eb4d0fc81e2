/**
 * @module The Worker the bench runs in local workerd (bench/workers/harness.ts): the gateway itself
 * (src/worker.ts) and, under /bare/, a bare Hono app, both in this one Worker, so that the gateway's
 * requests and the baseline's are served by the same workerd process and isolate, and the ratio
 * between them is the gateway's own cost on Workers. Each request goes one way or the other on its
 * path alone.
 */
import { Hono } from 'hono'
import gateway from '../../src/worker.ts'
import type { WorkerEnv } from '../../src/runtime/worker/deps.ts'

const bare = new Hono().basePath('/bare').get('/hello', (c) => c.json({ ok: true }))

export default {
  fetch(request, env, ctx) {
    return new URL(request.url).pathname.startsWith('/bare/')
      ? bare.fetch(request, env, ctx)
      : gateway.fetch(request, env, ctx)
  },
} satisfies ExportedHandler<WorkerEnv>
