/**
 * @module What every command shares: the gateway's deps over DATABASE_PATH, and standard output kept
 * for a command's result alone (what a script reads); everything said to the person goes to standard error.
 */
import { parseConfig } from '../config.ts'
import type { Deps } from '../deps.ts'
import { jsonLogger } from '../lib/log.ts'
import { nodeDeps } from '../runtime/node/deps.ts'
import { loadOrCreateDevSecret } from '../runtime/node/secret.ts'
import { openDatabase } from '../runtime/node/server.ts'

/** Runs `fn` with the gateway's deps over DATABASE_PATH (migrated first), then closes the database. */
export async function withDeps(fn: (deps: Deps) => Promise<number>): Promise<number> {
  const parsed = parseConfig(process.env)
  const config = { ...parsed, appSecret: parsed.appSecret ?? loadOrCreateDevSecret() }
  const sqlite = openDatabase(config.databasePath)
  try {
    const logger = jsonLogger((line) => console.error(line)) // standard output is the command's result
    return await fn(await nodeDeps({ config, sqlite, logger }))
  } finally {
    sqlite.close()
  }
}

/** Writes a command's result to standard output, resolving once it is flushed. */
export const print = (text: string) =>
  new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()))
