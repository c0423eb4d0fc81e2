/**
 * @module Signed statements: consent receipts and ledger checkpoints, as compact JWS (ES256) that anyone
 * can verify offline with GET /.well-known/jwks.json. WebCrypto derives no signature keys from
 * APP_SECRET, so the key pair is generated once; its private half is stored encrypted, and every public
 * key that ever signed stays published, so old receipts keep verifying after a rotation.
 *
 * Format: jose `CompactSign` over the UTF-8 JSON of the payload, protected header
 * `{ alg: 'ES256', kid, typ }`. No claims are added (no iat/iss): the payload comes back byte for byte,
 * so callers put their own times in it. A JSON object payload also verifies with `jwtVerify`.
 */
import {
  calculateJwkThumbprint,
  CompactSign,
  compactVerify,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose'
import type { DB } from '../../db/database.ts'
import * as repo from '../../db/repositories/signing-keys.ts'
import type { Deps } from '../../deps.ts'
import { fromUtf8, utf8 } from '../../lib/encoding.ts'
import { decryptField, encryptField, needsRekey } from '../../lib/keys.ts'

export type SigningDeps = Pick<Deps, 'db' | 'keys' | 'clock'>
export const SIGNING_ALG = 'ES256'
export const RECEIPT_TYP = 'consent-receipt+jwt'
export const CHECKPOINT_TYP = 'ledger-checkpoint+jwt'

export interface SigningKey {
  kid: string
  privateKey: CryptoKey
}

/** A public key as published in the JWKS. */
export type PublishedJwk = JsonWebKey & { kid: string; alg: string; use: 'sig' }

/** How long a process signs with its cached key before checking for a rotation made elsewhere. */
const RECHECK_MS = 5 * 60_000
const active = new WeakMap<DB, { key: Promise<SigningKey>; until: number }>()
const rotating = new WeakMap<DB, Promise<SigningKey>>()
const publicKeys = new WeakMap<DB, Map<string, Promise<CryptoKey>>>()
const aad = (kid: string) => `signing_keys:${kid}`

/** A fresh key pair, ready to insert: kid = RFC 7638 thumbprint, private JWK encrypted. */
async function generateSigningKey(deps: SigningDeps) {
  const pair = await generateKeyPair(SIGNING_ALG, { extractable: true })
  const [{ kty, crv, x, y }, privateJwk] = await Promise.all([
    exportJWK(pair.publicKey),
    exportJWK(pair.privateKey),
  ])
  const publicJwk = { kty, crv, x, y } // the key alone: no ext or key_ops in what we publish
  const kid = await calculateJwkThumbprint(publicJwk)
  const privateJwkEnc = await encryptField(deps.keys, JSON.stringify(privateJwk), aad(kid))
  return { kid, alg: SIGNING_ALG, publicJwk, privateJwkEnc, createdAt: deps.clock.now() }
}

/** The active key's row, created when there is none; racing creators all end up on the one inserted. */
async function activeKeyRecord(deps: SigningDeps): Promise<repo.SigningKeyRecord> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const row = await repo.findActiveSigningKey(deps.db)
    if (row) return row
    await repo.insertSigningKeyIfNoneActive(deps.db, await generateSigningKey(deps))
  }
  throw new Error('signing key: no active key after three attempts')
}

async function loadSigningKey(deps: SigningDeps, previous?: Promise<SigningKey>) {
  const row = await activeKeyRecord(deps)
  const known = await previous?.catch(() => undefined)
  if (known?.kid === row.kid) return known
  const jwk = await decryptField(deps.keys, row.privateJwkEnc, aad(row.kid))
  // Written under APP_SECRET_PREVIOUS: re-encrypt now, or the key dies when that secret is dropped.
  if (needsRekey(deps.keys, row.privateJwkEnc)) {
    const enc = await encryptField(deps.keys, jwk, aad(row.kid))
    await repo.updateSigningKeyEncryption(deps.db, row.kid, enc)
  }
  const privateKey = await importJWK(JSON.parse(jwk) as JWK, row.alg, { extractable: false })
  return { kid: row.kid, privateKey: privateKey as CryptoKey }
}

/**
 * The active signing key, created on first use. Imported once per database handle and re-checked every
 * five minutes, so a rotation made by another process (or Worker isolate) is picked up.
 */
export function currentSigningKey(deps: SigningDeps): Promise<SigningKey> {
  const now = deps.clock.now()
  const cached = active.get(deps.db)
  if (cached && now < cached.until) return cached.key
  const key = loadSigningKey(deps, cached?.key)
  active.set(deps.db, { key, until: now + RECHECK_MS })
  key.catch(() => active.get(deps.db)?.key === key && active.delete(deps.db))
  return key
}

/**
 * Retires the active key and makes a new one; its public key stays in the JWKS. Concurrent calls in one
 * process share one rotation; across processes, each leaves exactly one active key.
 */
export function rotateSigningKey(deps: SigningDeps): Promise<SigningKey> {
  const inFlight = rotating.get(deps.db)
  if (inFlight) return inFlight
  const done = rotate(deps).finally(() => rotating.delete(deps.db))
  rotating.set(deps.db, done)
  return done
}

async function rotate(deps: SigningDeps): Promise<SigningKey> {
  const fresh = await generateSigningKey(deps)
  const current = await repo.findActiveSigningKey(deps.db)
  if (current) await repo.retireSigningKey(deps.db, current.kid, deps.clock.now())
  await repo.insertSigningKeyIfNoneActive(deps.db, fresh)
  active.delete(deps.db)
  return currentSigningKey(deps)
}

/** Signs a JSON object as a compact JWS with the active key; `typ` names what it is. */
export async function signStatement(
  deps: SigningDeps,
  typ: string,
  payload: object,
): Promise<string> {
  if (Array.isArray(payload)) throw new TypeError('a signed statement is a JSON object')
  const { kid, privateKey } = await currentSigningKey(deps)
  return new CompactSign(utf8(JSON.stringify(payload)))
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ })
    .sign(privateKey)
}

/** A consent receipt (GET /api/v1/contacts/…/consents): typ "consent-receipt+jwt". */
export const signReceipt = (deps: SigningDeps, payload: object): Promise<string> =>
  signStatement(deps, RECEIPT_TYP, payload)

async function publicKeyFor(db: DB, kid: string | undefined): Promise<CryptoKey> {
  if (!kid) throw new errors.JWKSNoMatchingKey('no kid')
  let keys = publicKeys.get(db)
  if (!keys) publicKeys.set(db, (keys = new Map()))
  let key = keys.get(kid)
  if (!key) {
    const row = await repo.findSigningKey(db, kid)
    if (!row) throw new errors.JWKSNoMatchingKey('unknown kid')
    // A kid is its key's thumbprint, so the imported key can be cached for good.
    key = importJWK(row.publicJwk as JWK, row.alg) as Promise<CryptoKey>
    keys.set(kid, key)
  }
  return key
}

/**
 * Verifies a statement against every key this gateway ever used (by kid) and, when given, its `typ`.
 * Returns the payload, or null when the JWS is malformed, altered, unknown or of another type.
 */
export async function verifyStatement(
  deps: Pick<Deps, 'db'>,
  jws: string,
  typ?: string,
): Promise<unknown> {
  try {
    const { payload, protectedHeader } = await compactVerify(
      jws,
      (header) => publicKeyFor(deps.db, header.kid),
      { algorithms: [SIGNING_ALG] },
    )
    if (typ !== undefined && protectedHeader.typ !== typ) return null
    return JSON.parse(fromUtf8(payload)) as unknown
  } catch (err) {
    if (err instanceof errors.JOSEError || err instanceof SyntaxError) return null
    throw err // the database is down: not a verdict on the statement
  }
}

/** The JWKS: every public key that ever signed, the active one first (created if none exists yet). */
export async function publishedJwks(deps: SigningDeps): Promise<{ keys: PublishedJwk[] }> {
  let rows = await repo.listSigningKeys(deps.db)
  if (!rows.some((r) => r.retiredAt === null)) {
    await activeKeyRecord(deps)
    rows = await repo.listSigningKeys(deps.db)
  }
  return { keys: rows.map((r) => ({ ...r.publicJwk, kid: r.kid, alg: r.alg, use: 'sig' })) }
}
