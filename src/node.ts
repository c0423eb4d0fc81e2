/** @module Node entry: `npm start` / `consent-gateway serve`. Exits non-zero with one clear message on bad config. */
import { ConfigError } from './config.ts'
import { banner, startServer, StartupError } from './runtime/node/server.ts'

export async function main(env = process.env): Promise<void> {
  let running
  try {
    running = await startServer(env)
  } catch (err) {
    if (err instanceof ConfigError || err instanceof StartupError) {
      console.error(err.message)
      process.exit(1)
    }
    throw err
  }
  console.error(banner(running))

  let signalled = false
  const shutdown = (signal: string) => {
    if (signalled) process.exit(1) // a second Ctrl+C forces the exit
    signalled = true
    console.error(`${signal}: finishing in-flight requests, then closing the database`)
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    void running.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
