/**
 * @module `consent-gateway backup --out FILE [--encrypt]` and `restore FILE --out NEW_PATH` (README,
 * "Backups"): file-level by nature, so neither takes --url or --d1-sql (on Workers, D1 Time Travel
 * and `wrangler d1 export` do this). The backup is SQLite's online backup, consistent while the
 * gateway serves (src/runtime/node/backup.ts), recorded in the database for the monitor; `--encrypt`
 * seals it under a key derived from APP_SECRET. The restore writes a new file, never over one.
 */
import { existsSync } from 'node:fs'
import { options, UsageError } from './args.ts'
import { print } from './context.ts'
import { parseConfig, type RawEnv } from '../config.ts'
import { recordBackup } from '../domain/operations/backups.ts'
import { jsonLogger } from '../lib/log.ts'
import { backupDatabase, BackupError, restoreDatabase } from '../runtime/node/backup.ts'
import { nodeDeps } from '../runtime/node/deps.ts'
import { loadOrCreateDevSecret } from '../runtime/node/secret.ts'
import { openDatabase, StartupError } from '../runtime/node/server.ts'

function config(env: RawEnv) {
  const parsed = parseConfig(env)
  return { ...parsed, appSecret: parsed.appSecret ?? loadOrCreateDevSecret() }
}

export async function backup(args: string[], env: RawEnv = process.env): Promise<number> {
  const encrypt = args.includes('--encrypt')
  const { out } = options(
    args.filter((a) => a !== '--encrypt'),
    ['out'],
  )
  if (!out) throw new UsageError('backup needs --out FILE (a new file).')
  const cfg = config(env)
  if (!existsSync(cfg.databasePath))
    throw new StartupError(
      `No database at ${cfg.databasePath} (DATABASE_PATH): nothing to back up.`,
    )
  const sqlite = openDatabase(cfg.databasePath)
  try {
    const result = await backupDatabase(
      sqlite,
      out,
      encrypt ? { secret: cfg.appSecret } : undefined,
    ).catch((err: unknown) => {
      if (err instanceof BackupError) throw new StartupError(err.message)
      throw err
    })
    const deps = await nodeDeps({
      config: cfg,
      sqlite,
      logger: jsonLogger((l) => console.error(l)),
    })
    await recordBackup(
      deps,
      {
        kind: result.sealed ? 'sealed' : 'sqlite',
        location: out,
        sizeBytes: result.bytes,
        sha256: result.sha256,
      },
      'cli',
    )
    console.error(
      `Backup of ${cfg.databasePath} written to ${out} (${result.bytes} bytes, SHA-256 ${result.sha256}` +
        `${result.sealed ? ', sealed under a key derived from APP_SECRET: keep that secret apart from the file' : ''}).` +
        `\nRestore it with: npx consent-gateway restore ${out} --out NEW_PATH`,
    )
    await print(out)
    return 0
  } finally {
    sqlite.close()
  }
}

export async function restore(args: string[], env: RawEnv = process.env): Promise<number> {
  const [file, ...rest] = args
  if (!file || file.startsWith('--'))
    throw new UsageError('restore needs the backup file first: restore FILE --out NEW_PATH.')
  const { out } = options(rest, ['out'])
  if (!out) throw new UsageError('restore needs --out NEW_PATH (a new file, never the live one).')
  const cfg = config(env)
  let result
  try {
    result = restoreDatabase(file, out, {
      liveDatabase: cfg.databasePath,
      secrets: [cfg.appSecret, cfg.appSecretPrevious].filter((s): s is string => Boolean(s)),
    })
  } catch (err) {
    if (err instanceof BackupError) throw new StartupError(err.message)
    throw err
  }
  console.error(
    `Restored ${file}${result.sealed ? ' (sealed)' : ''} into ${out}: ${result.contacts} contact(s), ` +
      `${result.events} consent event(s), ${result.migrations} migration(s) applied.\n` +
      `Check it: DATABASE_PATH=${out} npx consent-gateway verify-ledger\n` +
      'To serve it: stop the gateway, move the file to DATABASE_PATH (with no -wal or -shm file beside it), start.',
  )
  await print(out)
  return 0
}
