/** @module The `consent-gateway` command (package bin): one file per command group in this folder. */
import { createAdmin } from './admin.ts'
import { apiKey } from './api-key.ts'
import { UsageError } from './args.ts'
import { withDeps } from './context.ts'
import { runMautic } from './mautic.ts'
import { migrate } from './migrate.ts'
import { RemoteError, splitRemote, type Remote } from './remote.ts'
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
  help                                     show this text

Every command but serve and migrate also takes --url URL --key ADMIN_KEY: it then acts on the running
gateway at URL (a Cloudflare Worker, say) through its admin API, with an API key of scope admin.

API key scopes: ${API_KEY_SCOPES.join(', ')}`

/** Returns the exit code, or -1 to keep running. `remote`: --url and --key were given. */
type Command = (args: string[], remote?: Remote) => Promise<number> | number

/** File-level by nature: no --url. */
const LOCAL_ONLY = new Set(['serve', 'migrate'])

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
