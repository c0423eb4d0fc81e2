/** @module The `consent-gateway` command (package bin): one file per command group in this folder. */
import { createAdmin } from './admin.ts'
import { apiKey } from './api-key.ts'
import { backup, restore } from './backup.ts'
import { UsageError } from './args.ts'
import { runCompliance } from './compliance.ts'
import { useD1Target, withDeps } from './context.ts'
import { runMautic } from './mautic.ts'
import { mailLog, readStdin } from './mail-log.ts'
import { migrate } from './migrate.ts'
import { purge } from './purge.ts'
import { RemoteError, splitRemote, type Remote } from './remote.ts'
import { verifyBundleCommand } from './verify-bundle.ts'
import { verifyLedgerCommand, verifyLedgerRemote } from './verify-ledger.ts'
import { ConfigError } from '../config.ts'
import { ROLES } from '../domain/admin/permissions.ts'
import { API_KEY_CACHE_TTL_MS, API_KEY_SCOPES } from '../domain/platform/api-keys.ts'
import { main as serve } from '../node.ts'
import { StartupError } from '../runtime/node/server.ts'

const USAGE = `Usage: consent-gateway <command> [options]

Commands:
  serve                                    run the gateway (the same as npm start)
  migrate                                  apply the database migrations (DATABASE_PATH) and exit
  create-admin --email E [--role R]        create a staff account (role owner by default: ${ROLES.join(', ')});
                                           its one-time set-up link is printed alone on the last line
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
  purge [--dry-run]                        a retention run now: erase contacts inactive past
                                           RETENTION_INACTIVE_DAYS, delete old receipts, links and
                                           logged mails; --dry-run lists what would go
  backup --out FILE [--encrypt]            an online backup of DATABASE_PATH into a new file (sealed
                                           under a key derived from APP_SECRET with --encrypt)
  restore FILE --out NEW_PATH              a backup into a new database file, checked; never over
                                           an existing file or the live database
  verify-bundle FILE [--jwks FILE|URL]     check a proof bundle offline: signatures, page hashes,
                                           every event's hash; exit 1 naming what was tampered with
  compliance import-fields | risks | record | export-bundle --out FILE
                                           data inventory, risk report, record of processing
                                           (Art. 30), proof bundles (consent-gateway compliance help)
  mail-log [--file FILE]                   show the mails MAIL_TRANSPORT=log kept in D1 (Workers in
                                           development), from the JSON of: npx wrangler d1 execute
                                           DB --local --json --command "SELECT * FROM mail_log"
  help                                     show this text

For a Cloudflare Workers deployment (D1), put these before or after any command but serve:
  --d1-sql FILE        run the command on a local copy of the D1 database and write what it changed
                       to FILE, as SQL for: npx wrangler d1 execute <database> --remote --file FILE
                       (needs the Worker's APP_SECRET in the environment)
  --d1-export FILE     the copy to start from: npx wrangler d1 export <database> --remote --output FILE
                       (default: an empty database with every migration, as a fresh deployment)

Every command but serve, migrate, backup and restore also takes --url URL --key ADMIN_KEY: it then acts on the running
gateway at URL (a Cloudflare Worker, say) through its admin API, with an API key of scope admin.

API key scopes: ${API_KEY_SCOPES.join(', ')}`

/** Returns the exit code, or -1 to keep running. `remote`: --url and --key were given. */
type Command = (args: string[], remote?: Remote) => Promise<number> | number

/** File-level by nature: no --url. */
const LOCAL_ONLY = new Set(['serve', 'migrate', 'backup', 'restore'])

const COMMANDS: Record<string, Command> = {
  serve: async () => {
    await serve()
    return -1
  },
  migrate,
  'create-admin': createAdmin,
  'api-key': apiKey,
  'verify-ledger': (args, remote) => {
    if (args.length > 0) throw new UsageError(`verify-ledger takes no argument, got "${args[0]}".`)
    return remote ? verifyLedgerRemote(remote) : withDeps(verifyLedgerCommand)
  },
  // Remote commands never open the database: their deps are never read.
  mautic: (args, remote) =>
    runMautic(args, remote ? (fn) => fn(undefined as never) : withDeps, undefined, remote),
  purge,
  backup: (args) => backup(args),
  restore: (args) => restore(args),
  'verify-bundle': (args) => verifyBundleCommand(args, withDeps),
  compliance: (args) => runCompliance(args, withDeps),
  'mail-log': (args) => mailLog(args, readStdin),
}

/** Takes `--d1-sql FILE` and `--d1-export FILE` out of the arguments, wherever they are. */
function d1Options(argv: string[]): { rest: string[]; sqlOut?: string; exportFile?: string } {
  const rest: string[] = []
  const found: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(d1-sql|d1-export)(?:=(.*))?$/.exec(argv[i]!)
    if (!m) {
      rest.push(argv[i]!)
      continue
    }
    const value = m[2] ?? argv[++i]
    if (!value || value.startsWith('--')) throw new UsageError(`--${m[1]} needs a file name.`)
    found[m[1]!] = value
  }
  if (found['d1-export'] && !found['d1-sql'])
    throw new UsageError('--d1-export goes with --d1-sql (where the changes are written).')
  return { rest, sqlOut: found['d1-sql'], exportFile: found['d1-export'] }
}

export async function runCli(argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = d1Options(argv)
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const [command, ...args] = parsed.rest
  if (parsed.sqlOut && (command === 'serve' || command === 'migrate')) {
    console.error(
      `--d1-sql does not apply to ${command}: on Workers, migrations are applied with ` +
        '`npx wrangler d1 migrations apply <database> --remote`.',
    )
    return 2
  }
  if (parsed.sqlOut && (command === 'backup' || command === 'restore')) {
    console.error(
      `--d1-sql does not apply to ${command}: on Workers, D1 Time Travel restores the database ` +
        'to any minute of the last 30 days, and `npx wrangler d1 export <database> --remote --output FILE` ' +
        'writes a copy (README, "Backups").',
    )
    return 2
  }
  useD1Target(
    parsed.sqlOut
      ? {
          sqlOut: parsed.sqlOut,
          exportFile: parsed.exportFile,
          command: parsed.rest.join(' '),
        }
      : undefined,
  )
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
    if (LOCAL_ONLY.has(command)) return await run(args)
    const { remote, rest } = splitRemote(args)
    return await run(rest, remote)
  } catch (err) {
    if (err instanceof RemoteError) {
      console.error(err.message)
      return 1
    }
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

const code = await runCli(process.argv.slice(2))
if (code >= 0) process.exit(code)
