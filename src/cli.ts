/** @module The `consent-gateway` command (package bin): serve, migrate; later issues add theirs. */
import { ConfigError, parseConfig } from './config.ts'
import { main as serve } from './node.ts'
import { openSqlite, applyMigrations } from './runtime/node/sqlite.ts'

const USAGE = `Usage: consent-gateway <command>

Commands:
  serve     run the gateway (the same as npm start)
  migrate   apply the database migrations (DATABASE_PATH) and exit
  help      show this text`

export async function runCli(argv: string[]): Promise<number> {
  const [command] = argv
  switch (command) {
    case 'serve':
      await serve()
      return -1 // keeps running
    case 'migrate':
      return migrate()
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.error(USAGE)
      return command === undefined ? 2 : 0
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`)
      return 2
  }
}

function migrate(): number {
  let path: string
  try {
    path = parseConfig(process.env).databasePath
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message)
      return 1
    }
    throw err
  }
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

const code = await runCli(process.argv.slice(2))
if (code >= 0) process.exit(code)
