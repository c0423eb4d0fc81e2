/**
 * @module Cloudflare Workers entry: the same app over D1 (deps: src/runtime/worker/deps.ts). Outbox
 * delivery starts with `ctx.waitUntil` right after a commit; the cron trigger is the safety net and
 * runs the scheduled jobs.
 */
import { deliverOutbox } from './domain/platform/outbox.ts'
import { runScheduledJobs } from './jobs/scheduler.ts'
import { serveEnv, type WorkerEnv } from './runtime/worker/deps.ts'

export default {
  async fetch(request, env, ctx) {
    const { app } = await serveEnv(env)
    return app.fetch(request, env, ctx)
  },
  async scheduled(_controller, env, ctx) {
    const { deps } = await serveEnv(env)
    if (!deps) return // misconfigured: forEnv logged why, and every request answers 503
    ctx.waitUntil(Promise.all([deliverOutbox(deps), runScheduledJobs(deps)]))
  },
} satisfies ExportedHandler<WorkerEnv>
