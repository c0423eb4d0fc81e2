/**
 * @module The `signing_keys` table (migrations/0002_consent.sql): the asymmetric keys that sign consent
 * receipts and ledger checkpoints. At most one key is active (retired_at IS NULL); retired keys stay
 * so that their public halves remain published.
 */
import type { Selectable } from 'kysely'
import type { DB, SigningKeysTable } from '../database.ts'

export interface SigningKeyRecord {
  /** RFC 7638 thumbprint of the public key. */
  kid: string
  alg: string
  publicJwk: JsonWebKey
  /** The private JWK, encrypted with `encryptField` (AAD "signing_keys:" + kid). */
  privateJwkEnc: string
  createdAt: number
  retiredAt: number | null
}

const toRecord = (row: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  kid: row.kid,
  alg: row.alg,
  publicJwk: JSON.parse(row.public_jwk) as JsonWebKey,
  privateJwkEnc: row.private_jwk_enc,
  createdAt: row.created_at,
  retiredAt: row.retired_at,
})

/** The active key: the oldest one not retired, should a second ever appear. */
export async function findActiveSigningKey(db: DB): Promise<SigningKeyRecord | undefined> {
  const row = await db
    .selectFrom('signing_keys')
    .selectAll()
    .where('retired_at', 'is', null)
    .orderBy('created_at')
    .orderBy('kid')
    .limit(1)
    .executeTakeFirst()
  return row && toRecord(row)
}

/** One key by kid, retired or not. */
export async function findSigningKey(db: DB, kid: string): Promise<SigningKeyRecord | undefined> {
  const row = await db
    .selectFrom('signing_keys')
    .selectAll()
    .where('kid', '=', kid)
    .executeTakeFirst()
  return row && toRecord(row)
}

/** Every key that ever signed: the active one first, then newest to oldest. */
export async function listSigningKeys(db: DB): Promise<SigningKeyRecord[]> {
  const rows = await db
    .selectFrom('signing_keys')
    .selectAll()
    .orderBy((eb) => eb('retired_at', 'is', null), 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('kid')
    .execute()
  return rows.map(toRecord)
}

/**
 * Inserts the key only while no key is active, in one statement: SQLite takes the write lock before
 * it reads, and D1 runs statements one at a time, so of two racing processes exactly one inserts.
 * Returns whether this key was inserted.
 */
export async function insertSigningKeyIfNoneActive(
  db: DB,
  key: Omit<SigningKeyRecord, 'retiredAt'>,
): Promise<boolean> {
  const res = await db
    .insertInto('signing_keys')
    .columns(['kid', 'alg', 'public_jwk', 'private_jwk_enc', 'created_at'])
    .expression(
      db
        .selectNoFrom((eb) => [
          eb.val(key.kid).as('kid'),
          eb.val(key.alg).as('alg'),
          eb.val(JSON.stringify(key.publicJwk)).as('public_jwk'),
          eb.val(key.privateJwkEnc).as('private_jwk_enc'),
          eb.val(key.createdAt).as('created_at'),
        ])
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('signing_keys').select('kid').where('retired_at', 'is', null))),
        ),
    )
    .onConflict((oc) => oc.doNothing())
    .executeTakeFirst()
  return (res.numInsertedOrUpdatedRows ?? 0n) > 0n
}

/** Retires one key (no-op when it already is). Returns whether this call retired it. */
export async function retireSigningKey(db: DB, kid: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('signing_keys')
    .set({ retired_at: now })
    .where('kid', '=', kid)
    .where('retired_at', 'is', null)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

/** Re-encrypts a private key under the current APP_SECRET (after a secret rotation). */
export async function updateSigningKeyEncryption(
  db: DB,
  kid: string,
  privateJwkEnc: string,
): Promise<void> {
  await db
    .updateTable('signing_keys')
    .set({ private_jwk_enc: privateJwkEnc })
    .where('kid', '=', kid)
    .execute()
}
