/**
 * @module Child process serving the bench's Worker (bench/workers/entry.ts) in local workerd, through
 * wrangler's own dev server (`unstable_startWorker`, what `wrangler dev --local` runs), on the local D1
 * persisted in the folder given as argv[2], listening on 127.0.0.1:argv[3]. Prints one line
 * `{"url":…}` once it serves. Its inspector is off: under `wrangler dev` the inspector proxy enables
 * the devtools Network domain, and every D1 call of the Worker then sends events through a second
 * workerd, which cost more CPU than the request itself (and nothing like it exists when deployed).
 * It exits when its parent closes its stdin.
 */
import { unstable_startWorker } from 'wrangler'
import { HOST } from '../apps/http-apps.ts'
import { APP_SECRET, WEBHOOK_SECRET } from '../secrets.ts'
import { WRANGLER_CONFIG } from './config.ts'

const [persistTo, port] = process.argv.slice(2)
if (!persistTo || !port) throw new Error('usage: serve.ts <persist folder> <port>')

/** The variables the Worker gets here: secrets never go into wrangler.toml. */
const vars = {
  APP_SECRET,
  MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET,
  // As .dev.vars gives `wrangler dev`: MAIL_TRANSPORT=log (wrangler.toml) is refused in production.
  NODE_ENV: 'development',
}

const worker = await unstable_startWorker({
  config: WRANGLER_CONFIG,
  bindings: Object.fromEntries(
    Object.entries(vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }]),
  ),
  dev: {
    remote: false,
    persist: persistTo,
    server: { hostname: HOST, port: Number(port) },
    inspector: false,
    watch: false,
    liveReload: false,
    logLevel: 'warn',
  },
})
await worker.ready
const url = await worker.url

let stopping = false
async function shutdown() {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(1), 5_000).unref()
  await worker.dispose()
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
process.stdin.on('end', shutdown).on('close', shutdown).resume()
process.stdout.write(`${JSON.stringify({ url: url.href })}\n`)
