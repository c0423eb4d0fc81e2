/** @module `consent-gateway migrate`: applies the migrations to DATABASE_PATH and exits. */
import { parseConfig } from '../config.ts'
import { applyMigrations, openSqlite } from '../runtime/node/sqlite.ts'

export function migrate(): number {
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
