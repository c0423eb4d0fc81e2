/**
 * @module What every command shares: the gateway's deps over DATABASE_PATH — or, with `--d1-sql`,
 * over a local copy of a Cloudflare D1 database whose changes are written out as SQL to run with
 * `wrangler d1 execute` (src/runtime/node/d1-sql.ts) — and standard output kept for a command's result
 * alone (what a script reads); everything said to the person goes to standard error.
 */
import { writeFileSync } from 'node:fs'
import { ConfigError, parseConfig } from '../config.ts'
import type { Deps } from '../deps.ts'
import { jsonLogger } from '../lib/log.ts'
import { d1SqlFile, diffAsSql, openD1Copy, snapshot } from '../runtime/node/d1-sql.ts'
import { nodeDeps } from '../runtime/node/deps.ts'
import { loadOrCreateDevSecret } from '../runtime/node/secret.ts'
import { openDatabase, StartupError } from '../runtime/node/server.ts'

/** `--d1-sql FILE [--d1-export FILE]`: set by src/cli/main.ts before the command runs. */
export interface D1Target {
  /** Where the SQL goes. */
  sqlOut: string
  /** A `wrangler d1 export` of the database, read first (default: an empty migrated one). */
  exportFile?: string
  /** The command line, for the file's first line. */
  command: string
}

let d1Target: D1Target | undefined

export function useD1Target(target: D1Target | undefined) {
  d1Target = target
}

/** Runs `fn` with the gateway's deps over DATABASE_PATH (migrated first), then closes the database. */
export async function withDeps(fn: (deps: Deps) => Promise<number>): Promise<number> {
  if (d1Target) return withD1Copy(d1Target, fn)
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

/**
 * The command on a local copy of the D1 database; its changes written to `target.sqlOut`. The Worker's
 * own APP_SECRET is required: what the command writes is encrypted or signed with keys derived from it.
 */
async function withD1Copy(target: D1Target, fn: (deps: Deps) => Promise<number>): Promise<number> {
  const config = parseConfig(process.env)
  if (!config.appSecret)
    throw new ConfigError([
      "--d1-sql needs the Worker's APP_SECRET in the environment: what the command writes is " +
        'encrypted with keys derived from it (the value you gave `wrangler secret put APP_SECRET`)',
    ])
  let sqlite
  try {
    sqlite = openD1Copy(target.exportFile)
  } catch (err) {
    throw new StartupError((err as Error).message)
  }
  const before = snapshot(sqlite)
  try {
    const logger = jsonLogger((line) => console.error(line))
    const deps = await nodeDeps({
      config: { ...config, appSecret: config.appSecret },
      sqlite,
      logger,
    })
    const code = await fn(deps)
    // Let a unit still in the group-commit window land before comparing.
    await new Promise((resolve) => setImmediate(resolve))
    const statements = diffAsSql(before, sqlite)
    writeFileSync(target.sqlOut, d1SqlFile(statements, target.command), { mode: 0o600 })
    console.error(
      statements.length === 0
        ? `Nothing to change in D1: ${target.sqlOut} holds no statement.`
        : `${statements.length} change(s) for D1 written to ${target.sqlOut} (mode 0600: it may hold ` +
            'encrypted personal data and a webhook secret). Apply them with:\n' +
            `  npx wrangler d1 execute <database> --remote --file ${target.sqlOut}\n` +
            'then delete the file.',
    )
    return code
  } finally {
    before.close()
    sqlite.close()
  }
}

/** Writes a command's result to standard output, resolving once it is flushed. */
export const print = (text: string) =>
  new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()))
