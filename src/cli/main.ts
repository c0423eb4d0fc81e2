/** @module The `consent-gateway` command (package bin): one file per command group in this folder. */
import { apiKey } from './api-key.ts'
import { UsageError } from './args.ts'
import { runCompliance } from './compliance.ts'
import { withDeps } from './context.ts'
import { runMautic } from './mautic.ts'
import { migrate } from './migrate.ts'
import { verifyBundleCommand } from './verify-bundle.ts'
import { verifyLedgerCommand } from './verify-ledger.ts'
import { ConfigError } from '../config.ts'
import { API_KEY_CACHE_TTL_MS, API_KEY_SCOPES } from '../domain/platform/api-keys.ts'
import { main as serve } from '../node.ts'
import { StartupError } from '../runtime/node/server.ts'

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
  verify-bundle FILE [--jwks FILE|URL]     check a proof bundle offline: signatures, page hashes,
                                           every event's hash; exit 1 naming what was tampered with
  compliance import-fields | risks | record | export-bundle --out FILE
                                           data inventory, risk report, record of processing
                                           (Art. 30), proof bundles (consent-gateway compliance help)
  help                                     show this text

API key scopes: ${API_KEY_SCOPES.join(', ')}`

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
  'verify-bundle': (args) => verifyBundleCommand(args, withDeps),
  compliance: (args) => runCompliance(args, withDeps),
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

const code = await runCli(process.argv.slice(2))
if (code >= 0) process.exit(code)
