/**
 * @module Backups of the SQLite file (GDPR Art. 32(1)(c)): SQLite's online backup API through
 * better-sqlite3's `db.backup()`, consistent while the gateway serves, and the restore into a new file.
 *
 * Consistency under writes: SQLite restarts a backup whose source another connection changed between
 * two steps, so every page is copied in one step, inside one read transaction: a snapshot of one
 * instant (in WAL mode the writers go on meanwhile). The copy is written beside its destination and
 * renamed into place only when complete.
 *
 * Sealing (`--encrypt`): AES-256-GCM in 1 MiB records, under a key derived with HKDF-SHA-256 from
 * APP_SECRET, a random salt per file and the label "consent-gateway backup v1". The personal data in
 * the file is already encrypted under keys derived from APP_SECRET, so the backup can only be read
 * with that secret anyway: sealing with it too asks for no second secret to keep (and lose), and covers
 * what is not encrypted field by field (the ledger's structure, the audit log, notices, counters). Keep
 * APP_SECRET apart from the backups, and keep a rotated secret as long as backups sealed under it.
 * Each record's nonce is the file's random prefix and the record's number; its additional data is the
 * header, the number and whether it is the last record, so records cannot be reordered, cut or added.
 */
import Database from 'better-sqlite3'
import { createHash, createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'

const MAGIC = Buffer.from('CGBACKUP1\n', 'latin1')
const RECORD = 1024 * 1024
const HEADER_LENGTH = MAGIC.length + 16 + 8 + 4
const TAG = 16

export class BackupError extends Error {}

const partial = (path: string) =>
  join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.partial`)

function sealKey(secret: string, salt: Buffer): Buffer {
  return Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), salt, 'consent-gateway backup v1', 32),
  )
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n)
  return b
}

const aad = (header: Buffer, n: number, last: boolean) =>
  Buffer.concat([header, u32(n), Buffer.from([last ? 1 : 0])])

/** Is this file a sealed backup (by its first bytes)? */
export function isSealed(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(MAGIC.length)
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(MAGIC)
  } finally {
    closeSync(fd)
  }
}

/** Seals `from` into `to`, one record at a time. */
export function sealFile(from: string, to: string, secret: string): void {
  const salt = randomBytes(16)
  const prefix = randomBytes(8)
  const header = Buffer.concat([MAGIC, salt, prefix, u32(RECORD)])
  const key = sealKey(secret, salt)
  const input = openSync(from, 'r')
  const output = openSync(to, 'wx', 0o600)
  try {
    const size = fstatSync(input).size
    const count = Math.max(1, Math.ceil(size / RECORD))
    writeSync(output, header)
    const chunk = Buffer.alloc(RECORD)
    for (let n = 0; n < count; n++) {
      const length = readSync(input, chunk, 0, RECORD, n * RECORD)
      const cipher = createCipheriv('aes-256-gcm', key, Buffer.concat([prefix, u32(n)]))
      cipher.setAAD(aad(header, n, n === count - 1))
      const body = Buffer.concat([cipher.update(chunk.subarray(0, length)), cipher.final()])
      writeSync(output, Buffer.concat([u32(length), body, cipher.getAuthTag()]))
    }
  } finally {
    closeSync(input)
    closeSync(output)
  }
}

/** Opens a sealed backup into `to`; tries each secret in turn (APP_SECRET, then the previous one). */
export function unsealFile(from: string, to: string, secrets: string[]): void {
  const input = openSync(from, 'r')
  try {
    const header = Buffer.alloc(HEADER_LENGTH)
    if (
      readSync(input, header, 0, HEADER_LENGTH, 0) !== HEADER_LENGTH ||
      !header.subarray(0, MAGIC.length).equals(MAGIC)
    )
      throw new BackupError(`${from} is not a sealed backup`)
    const salt = header.subarray(MAGIC.length, MAGIC.length + 16)
    const prefix = header.subarray(MAGIC.length + 16, MAGIC.length + 24)
    const size = fstatSync(input).size
    let lastError: Error | undefined
    for (const secret of secrets) {
      try {
        decryptRecords(input, to, header, sealKey(secret, salt), prefix, size)
        return
      } catch (err) {
        if (existsSync(to)) unlinkSync(to)
        lastError = err as Error
      }
    }
    throw new BackupError(
      `${from} cannot be opened: ${lastError?.message ?? 'no secret'} (it was sealed under another APP_SECRET, or it was altered or cut)`,
    )
  } finally {
    closeSync(input)
  }
}

function decryptRecords(
  input: number,
  to: string,
  header: Buffer,
  key: Buffer,
  prefix: Buffer,
  size: number,
) {
  const output = openSync(to, 'wx', 0o600)
  try {
    let at = HEADER_LENGTH
    const lengthBuf = Buffer.alloc(4)
    for (let n = 0; ; n++) {
      if (readSync(input, lengthBuf, 0, 4, at) !== 4)
        throw new Error('the file ends before its last record')
      const length = lengthBuf.readUInt32BE()
      if (length > RECORD) throw new Error(`record ${n} is larger than a record can be`)
      const body = Buffer.alloc(length + TAG)
      if (readSync(input, body, 0, body.length, at + 4) !== body.length)
        throw new Error('the file ends inside a record')
      at += 4 + body.length
      const last = at === size
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.concat([prefix, u32(n)]))
      decipher.setAAD(aad(header, n, last))
      decipher.setAuthTag(body.subarray(length))
      const plain = Buffer.concat([decipher.update(body.subarray(0, length)), decipher.final()])
      writeSync(output, plain)
      if (last) return
    }
  } finally {
    closeSync(output)
  }
}

export interface BackupResult {
  path: string
  sealed: boolean
  bytes: number
  sha256: string
}

function digest(path: string): string {
  const hash = createHash('sha256')
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(RECORD)
    for (let at = 0; ;) {
      const n = readSync(fd, buf, 0, RECORD, at)
      if (n === 0) break
      hash.update(buf.subarray(0, n))
      at += n
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

/**
 * Backs the open database up to `out` (refused when it exists), sealed under `seal.secret` when given.
 * Safe while the gateway serves the same file from another process.
 */
export async function backupDatabase(
  source: Database.Database,
  out: string,
  seal?: { secret: string },
): Promise<BackupResult> {
  if (existsSync(out))
    throw new BackupError(`${out} exists: give a new file name (nothing is overwritten)`)
  const copy = partial(out)
  const sealed = partial(out)
  try {
    // Every page in one step: a snapshot of one instant, never restarted by a concurrent writer.
    await source.backup(copy, { progress: () => Number.MAX_SAFE_INTEGER })
    if (seal) {
      sealFile(copy, sealed, seal.secret)
      publish(sealed, out)
    } else publish(copy, out)
  } finally {
    for (const leftover of [copy, sealed]) if (existsSync(leftover)) unlinkSync(leftover)
  }
  return { path: out, sealed: Boolean(seal), bytes: statSync(out).size, sha256: digest(out) }
}

/** Puts a finished file in place without ever replacing one (a link fails when the name is taken). */
function publish(file: string, to: string) {
  try {
    linkSync(file, to)
  } catch (err) {
    unlinkSync(file)
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BackupError(`${to} exists: give a new file name (nothing is overwritten)`)
    // A file system without hard links: a rename, after checking again.
    if (existsSync(to)) throw new BackupError(`${to} exists`)
    renameSync(file, to)
    return
  }
  unlinkSync(file)
}

export interface RestoreResult {
  path: string
  sealed: boolean
  contacts: number
  events: number
  migrations: number
}

/**
 * Restores a backup (plain or sealed) into `out`, a new file: refused when `out` exists or is the
 * live database, and when the result is not a sound SQLite database of the gateway.
 */
export function restoreDatabase(
  file: string,
  out: string,
  opts: { liveDatabase: string; secrets: string[] },
): RestoreResult {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`)
  if (resolve(out) === resolve(opts.liveDatabase))
    throw new BackupError(
      `${out} is the live database (DATABASE_PATH): restore into a new file, then stop the gateway and move it in place`,
    )
  for (const taken of [out, `${out}-wal`, `${out}-shm`])
    if (existsSync(taken))
      throw new BackupError(`${taken} exists: restore into a new file (nothing is overwritten)`)
  const sealed = isSealed(file)
  const copy = partial(out)
  try {
    if (sealed) unsealFile(file, copy, opts.secrets)
    else {
      const from = openSync(file, 'r')
      const to = openSync(copy, 'wx', 0o600)
      try {
        const buf = Buffer.alloc(RECORD)
        for (let at = 0; ;) {
          const n = readSync(from, buf, 0, RECORD, at)
          if (n === 0) break
          writeSync(to, buf, 0, n)
          at += n
        }
      } finally {
        closeSync(from)
        closeSync(to)
      }
    }
    const counts = check(copy)
    publish(copy, out)
    return { path: out, sealed, ...counts }
  } finally {
    if (existsSync(copy)) unlinkSync(copy)
  }
}

/** The restored file is a sound SQLite database of the gateway: its counts, or a BackupError. */
function check(path: string) {
  let db: Database.Database
  try {
    db = new Database(path, { fileMustExist: true })
  } catch (err) {
    throw new BackupError(`the backup is not a SQLite database: ${(err as Error).message}`)
  }
  try {
    const integrity = db.pragma('integrity_check', { simple: true })
    if (integrity !== 'ok')
      throw new BackupError(`the backup fails SQLite's integrity check: ${String(integrity)}`)
    const tables = new Set(
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[],
    )
    if (!tables.has('d1_migrations') || !tables.has('contacts') || !tables.has('consent_events'))
      throw new BackupError('the backup is not a consent-gateway database')
    const count = (table: string) =>
      db.prepare(`SELECT COUNT(*) FROM ${table}`).pluck().get() as number
    return {
      contacts: count('contacts'),
      events: count('consent_events'),
      migrations: count('d1_migrations'),
    }
  } catch (err) {
    if (err instanceof BackupError) throw err
    throw new BackupError(`the backup cannot be read: ${(err as Error).message}`)
  } finally {
    db.close()
  }
}
