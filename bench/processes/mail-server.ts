/**
 * @module Child process running one SMTP server of bench/apps/mail-apps.ts: `mail-server.ts <name>
 * [upstream smtp:// URL]`, printing `{"port":…,"auth":{"user":…,"pass":…}}` as one line on stdout.
 * A process of its own, apart from the load generator and from the sink, so that its VmHWM is its
 * peak RSS alone and a --cpu-prof of it shows only its own work.
 */
import { mailApps, type MailAppName } from '../apps/mail-apps.ts'

const [name = '', upstreamUrl = ''] = process.argv.slice(2)
if (!(name in mailApps))
  throw new Error(`Unknown SMTP app "${name}"; known: ${Object.keys(mailApps).join(', ')}`)

const app = await mailApps[name as MailAppName](upstreamUrl)

let stopping = false
async function shutdown(): Promise<void> {
  if (stopping) return
  stopping = true
  // A stuck close must not leave a server behind: exit anyway after a grace period.
  setTimeout(() => process.exit(1), 3_000).unref()
  await app.close().catch(() => {})
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
// The parent holds our stdin open: when it goes away, even by SIGKILL, we go too.
process.stdin.on('end', shutdown).on('close', shutdown).resume()

process.stdout.write(`${JSON.stringify({ port: app.port, auth: app.auth })}\n`)
