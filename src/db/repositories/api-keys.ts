/** @module The `api_keys` table: one row per key; only a hash of the secret part is stored. */
import type { ApiKeysTable, DB } from '../database.ts'

export interface ApiKeyRecord {
  /** The public part of the key (`cgk_<id>_…`). */
  id: string
  name: string
  /** base64url SHA-256 of the secret part. */
  secretHash: string
  scopes: string[]
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

const toRecord = (row: ApiKeysTable): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  secretHash: row.secret_hash,
  scopes: parseScopes(row.scopes),
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
})

/** A row written by hand or by a later version may hold anything: keep only strings. */
function parseScopes(json: string): string[] {
  try {
    const value: unknown = JSON.parse(json)
    return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : []
  } catch {
    return []
  }
}

// Inserts a new key (the id is random; a collision fails on the primary key).
export async function insertApiKey(db: DB, key: Omit<ApiKeyRecord, 'lastUsedAt' | 'revokedAt'>) {
  await db
    .insertInto('api_keys')
    .values({
      id: key.id,
      name: key.name,
      secret_hash: key.secretHash,
      scopes: JSON.stringify(key.scopes),
      created_at: key.createdAt,
    })
    .execute()
}

// One key by its public id, revoked or not.
export async function findApiKey(db: DB, id: string): Promise<ApiKeyRecord | undefined> {
  const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst()
  return row && toRecord(row)
}

// Every key, oldest first (the CLI and admin listings).
export async function listApiKeyRecords(db: DB): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('api_keys')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .execute()
  return rows.map(toRecord)
}

// Revokes a key that is not revoked yet; returns whether this call revoked it.
export async function revokeApiKeyRecord(db: DB, id: string, now: number): Promise<boolean> {
  const res = await db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return res.numUpdatedRows > 0n
}

// Records that the key was used (throttled by the caller to about once a minute).
export async function touchApiKey(db: DB, id: string, now: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', id).execute()
}
