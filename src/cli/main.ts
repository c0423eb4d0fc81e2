/** @module The `consent-gateway` command (package bin): serve, migrate, api-key, verify-ledger, mautic; later issues add theirs. */
import { options, UsageError } from './args.ts'
import { runMautic } from './mautic.ts'
import { ConfigError, parseConfig } from '../config.ts'
import type { Deps } from '../deps.ts'
import {
  API_KEY_CACHE_TTL_MS,
  API_KEY_SCOPES,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  validateApiKeyInput,
} from '../domain/platform/api-keys.ts'
import { verifyLedger } from '../domain/consent/checkpoints.ts'
import { jsonLogger } from '../lib/log.ts'
import { main as serve } from '../node.ts'
import { nodeDeps } from '../runtime/node/deps.ts'
import { loadOrCreateDevSecret } from '../runtime/node/secret.ts'
import { openDatabase, StartupError } from '../runtime/node/server.ts'
import { applyMigrations, openSqlite } from '../runtime/node/sqlite.ts'

const USAGE = `Usage: consent-gateway <command> [options]

Commands:
  serve                                    run the gateway (the same as npm start)
  migrate                                  apply the database migrations (DATABASE_PATH) and exit
  api-key create --name N --scopes s1,s2   create an API key; it is printed once, alone on the last
                                           line of standard output
  api-key list                             list the API keys (never their secrets)
  api-key revoke --id ID                   revoke an API key (a running gateway refuses it within
                                           ${API_KEY_CACHE_TTL_MS / 1000} s)
  verify-ledger                            check every consent chain and signed checkpoint; exit 1
                                           and name the first broken link when tampered with
  mautic connect [--webhook-url URL]       register the gateway in Mautic (webhook, fields, tags);
                                           prints MAUTIC_WEBHOOK_SECRET=… on standard output
  mautic sync [--report FILE.csv]          import Mautic's contacts; report those without proof
  mautic map-form | map-email | mappings   map Mautic forms and e-mails to purposes
                                           (consent-gateway mautic help: the options)
  help                                     show this text

API key scopes: ${API_KEY_SCOPES.join(', ')}`

/** Wrong command line: the message and the usage go to standard error, exit code 2. */

/** Returns the exit code, or -1 to keep running. */
type Command = (args: string[]) => Promise<number> | number

const COMMANDS: Record<string, Command> = {
  serve: async () => {
    await serve()
    return -1
  },
  migrate,
  'api-key': apiKey,
  'verify-ledger': () => withDeps(verifyLedgerCommand),
  mautic: (args) => runMautic(args, withDeps),
}

/**
 * Walks every consent chain and every signed checkpoint; prints a summary and each problem, and exits
 * 1 when the ledger was tampered with (a broken link, a missing chain, a forged checkpoint).
 */
async function verifyLedgerCommand(deps: Deps): Promise<number> {
  const report = await verifyLedger(deps)
  const summary = `${report.chains} chains, ${report.events} events, ${report.checkpoints} signed checkpoints`
  if (report.ok) {
    console.log(`Ledger verified: ${summary}; every link and checkpoint holds.`)
    return 0
  }
  console.log(`LEDGER BROKEN: ${summary}; ${report.problems.length} problem(s):`)
  for (const problem of report.problems) console.log(`  - ${problem}`)
  return 1
}

export async function runCli(argv: string[]): Promise<number> {
  const [command, ...args] = argv
  if (command === undefined || ['help', '--help', '-h'].includes(command)) {
    console.error(USAGE)
    return command === undefined ? 2 : 0
  }
  const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
  if (!run) {
    console.error(`Unknown command "${command}".\n\n${USAGE}`)
    return 2
  }
  try {
    return await run(args)
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`${err.message}\n\n${USAGE}`)
      return 2
    }
    if (err instanceof ConfigError || err instanceof StartupError) {
      console.error(err.message)
      return 1
    }
    throw err
  }
}

function migrate(): number {
  const path = parseConfig(process.env).databasePath
  try {
    const db = openSqlite(path)
    const applied = applyMigrations(db)
    db.close()
    console.error(
      applied.length ? `Applied ${applied.join(', ')} to ${path}` : `${path} is up to date`,
    )
    return 0
  } catch (err) {
    console.error(`Cannot migrate the database at ${path}: ${(err as Error).message}`)
    return 1
  }
}

/** Runs `fn` with the gateway's deps over DATABASE_PATH (migrated first), then closes the database. */
async function withDeps(fn: (deps: Deps) => Promise<number>): Promise<number> {
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

const print = (text: string) =>
  new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve()))

function apiKey([sub, ...args]: string[]): Promise<number> {
  switch (sub) {
    case 'create':
      return apiKeyCreate(args)
    case 'list':
      options(args, [])
      return withDeps(apiKeyList)
    case 'revoke':
      return apiKeyRevoke(args)
    default:
      throw new UsageError(
        sub === undefined
          ? 'api-key: create, list or revoke?'
          : `Unknown command "api-key ${sub}".`,
      )
  }
}

async function apiKeyCreate(args: string[]): Promise<number> {
  const { name, scopes } = options(args, ['name', 'scopes'])
  if (name === undefined || scopes === undefined)
    throw new UsageError('api-key create needs --name and --scopes.')
  const input = {
    name,
    scopes: scopes
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  }
  const valid = validateApiKeyInput(input) // before opening anything: bad flags change nothing
  if ('error' in valid) throw new UsageError(`Cannot create the API key: ${valid.error}.`)
  return withDeps(async (deps) => {
    const created = await createApiKey(deps, input)
    if (!created.ok) throw new UsageError(`Cannot create the API key: ${created.error}.`)
    const { id, name, scopes } = created.apiKey
    console.error(
      `API key "${name}" (id ${id}) created with scopes ${scopes.join(', ')}. ` +
        'It is shown only once, on the next line: store it now.',
    )
    await print(created.key)
    return 0
  })
}

async function apiKeyList(deps: Deps): Promise<number> {
  const keys = await listApiKeys(deps)
  if (keys.length === 0) {
    console.error('No API keys yet: create one with `consent-gateway api-key create`.')
    return 0
  }
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())
  const rows = [
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.scopes.join(','),
      time(k.createdAt),
      time(k.lastUsedAt),
      time(k.revokedAt),
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  await print(
    rows
      .map((r) =>
        r
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n'),
  )
  return 0
}

async function apiKeyRevoke(args: string[]): Promise<number> {
  const { id } = options(args, ['id'])
  if (!id) throw new UsageError('api-key revoke needs --id (see `consent-gateway api-key list`).')
  return withDeps(async (deps) => {
    if (!(await revokeApiKey(deps, id))) {
      console.error(`No API key with id "${id}" is active: nothing was revoked.`)
      return 1
    }
    console.error(
      `API key ${id} revoked; a running gateway refuses it within ${API_KEY_CACHE_TTL_MS / 1000} s.`,
    )
    return 0
  })
}

const code = await runCli(process.argv.slice(2))
if (code >= 0) process.exit(code)
