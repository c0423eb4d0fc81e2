/**
 * @module API keys (README, "Commands"): `cgk_<id>_<secret>`, shown once at creation. Only the
 * SHA-256 of the secret is stored. Verified keys are cached per process for API_KEY_CACHE_TTL_MS so that
 * most requests run no query: a revocation takes effect at once in the process that revoked the key
 * and within that TTL in every other process (and Worker isolate).
 */
import {
  findApiKey,
  insertApiKey,
  listApiKeyRecords,
  revokeApiKeyRecord,
  touchApiKey,
  type ApiKeyRecord,
} from '../../db/repositories/api-keys.ts'
import type { Deps } from '../../deps.ts'
import { fromBase64Url, timingSafeEqual, toBase64Url, utf8 } from '../../lib/encoding.ts'

export const API_KEY_SCOPES = [
  'subscribe',
  'gate',
  'send',
  'consents:read',
  'campaign',
  'relay',
  'relay_transactional',
  'admin',
] as const
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number]

/** Who is calling: what the middleware puts in the context. Never holds the secret. */
export interface ApiKeyIdentity {
  readonly id: string
  readonly name: string
  readonly scopes: readonly ApiKeyScope[]
}

export interface ApiKeyInfo extends ApiKeyIdentity {
  createdAt: number
  lastUsedAt: number | null
  revokedAt: number | null
}

export type ApiKeyDeps = Pick<Deps, 'db' | 'clock' | 'logger'>

export const API_KEY_CACHE_TTL_MS = 30_000
/** `last_used_at` is written at most this often per key: a write per request would cost a query each. */
export const LAST_USED_RESOLUTION_MS = 60_000
const CACHE_MAX_ENTRIES = 1000
const NAME_MAX = 100

// Base32 (RFC 4648 alphabet, lower case): no "_" or "-", so the id never blurs into the separators.
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
const KEY_PATTERN = /^cgk_([a-z2-7]{12})_([A-Za-z0-9_-]{43})$/

export const isApiKeyScope = (s: string): s is ApiKeyScope =>
  (API_KEY_SCOPES as readonly string[]).includes(s)

/** Checks a name (1 to 100 characters, no control characters) and scopes (known, at least one). */
export function validateApiKeyInput(input: {
  name: string
  scopes: readonly string[]
}): { name: string; scopes: ApiKeyScope[] } | { error: string } {
  const name = input.name.trim()
  if (name.length < 1 || name.length > NAME_MAX)
    return { error: `the name must be 1 to ${NAME_MAX} characters long` }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return { error: 'the name holds a control character' }
  const unknown = input.scopes.filter((s) => !isApiKeyScope(s))
  if (unknown.length)
    return {
      error: `unknown scope ${unknown.map((s) => `"${s}"`).join(', ')} (known: ${API_KEY_SCOPES.join(', ')})`,
    }
  if (input.scopes.length === 0)
    return { error: `at least one scope is required (${API_KEY_SCOPES.join(', ')})` }
  return { name, scopes: API_KEY_SCOPES.filter((s) => input.scopes.includes(s)) }
}

export type CreateApiKeyResult =
  { ok: true; key: string; apiKey: ApiKeyInfo } | { ok: false; error: string }

/** Creates a key. The full key is in the result and nowhere else: it cannot be shown again. */
export async function createApiKey(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { name: string; scopes: readonly string[] },
): Promise<CreateApiKeyResult> {
  const valid = validateApiKeyInput(input)
  if ('error' in valid) return { ok: false, error: valid.error }
  const id = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => ID_ALPHABET[b & 31])
  const secret = toBase64Url(crypto.getRandomValues(new Uint8Array(32)))
  const apiKey = {
    id: id.join(''),
    ...valid,
    createdAt: deps.clock.now(),
    lastUsedAt: null,
    revokedAt: null,
  }
  const secretHash = toBase64Url(await sha256(utf8(secret)))
  await insertApiKey(deps.db, { ...apiKey, secretHash })
  return { ok: true, key: `cgk_${apiKey.id}_${secret}`, apiKey }
}

/** Every key (never a secret), oldest first. */
export async function listApiKeys(deps: Pick<Deps, 'db'>): Promise<ApiKeyInfo[]> {
  return (await listApiKeyRecords(deps.db)).map((r) => ({
    ...identityOf(r),
    createdAt: r.createdAt,
    lastUsedAt: r.lastUsedAt,
    revokedAt: r.revokedAt,
  }))
}

/** Revokes a key; refused at once in this process. Returns false when unknown or already revoked. */
export async function revokeApiKey(deps: Pick<Deps, 'db' | 'clock'>, id: string): Promise<boolean> {
  const revoked = await revokeApiKeyRecord(deps.db, id, deps.clock.now())
  caches.get(deps.db)?.delete(id)
  return revoked
}

interface CacheEntry {
  /** Undefined when no key has this id. */
  key?: { identity: ApiKeyIdentity; hash: Uint8Array; revoked: boolean }
  /**
   * The secret once it has matched the hash: later requests compare against it (constant time) and
   * skip hashing. On Node, WebCrypto's digest goes through the thread pool, which costs many times
   * what the whole cached check does (as measured: bench/results.md, "Measurements behind design
   * choices").
   */
  secret?: Uint8Array
  fetchedAt: number
  lastUsedAt: number | null
}

// One cache per database handle, so that tests (a fresh database each) never see each other's keys.
const caches = new WeakMap<object, Map<string, CacheEntry>>()

/**
 * The key's identity when `presented` is a valid, unrevoked key; null otherwise. Malformed input is
 * refused without a query; a cached key is checked without one.
 */
export function verifyApiKey(
  deps: ApiKeyDeps,
  presented: string,
): ApiKeyIdentity | null | Promise<ApiKeyIdentity | null> {
  const match = KEY_PATTERN.exec(presented)
  if (!match) return null
  const [, id, secret] = match as unknown as [string, string, string]
  const now = deps.clock.now()
  // Synchronous while the key is cached and its secret known: every API call takes this path, and it
  // then costs no promise (the gain is below what this project's 2-core machine can measure:
  // bench/results.md, "Fourth speed pass").
  const hit = freshEntry(deps, id, now)
  if (hit?.secret) return checked(deps, hit, id, utf8(secret), now)
  return (async () => {
    const entry = hit ?? (await loadEntry(deps, id, now))
    if (!entry.key || entry.key.revoked) return null
    const bytes = utf8(secret)
    if (!entry.secret) {
      if (!timingSafeEqual(await sha256(bytes), entry.key.hash)) return null
      entry.secret = bytes
    }
    return checked(deps, entry, id, bytes, now)
  })()
}

/** The presented secret against the cached one (constant time), and the key's use recorded. */
function checked(
  deps: ApiKeyDeps,
  entry: CacheEntry,
  id: string,
  bytes: Uint8Array,
  now: number,
): ApiKeyIdentity | null | Promise<ApiKeyIdentity | null> {
  if (!entry.key || entry.key.revoked || !timingSafeEqual(bytes, entry.secret!)) return null
  const identity = entry.key.identity
  if (entry.lastUsedAt !== null && now - entry.lastUsedAt < LAST_USED_RESOLUTION_MS) return identity
  entry.lastUsedAt = now // set first: concurrent requests do not write it again
  return touchApiKey(deps.db, id, now).then(
    () => identity,
    (err: unknown) => {
      deps.logger.log('warn', 'could not record API key use', { apiKeyId: id, err })
      return identity
    },
  )
}

function freshEntry(deps: ApiKeyDeps, id: string, now: number): CacheEntry | undefined {
  const hit = caches.get(deps.db)?.get(id)
  // A clock that stepped back must not stretch the TTL.
  return hit && now >= hit.fetchedAt && now - hit.fetchedAt < API_KEY_CACHE_TTL_MS ? hit : undefined
}

async function loadEntry(deps: ApiKeyDeps, id: string, now: number): Promise<CacheEntry> {
  let cache = caches.get(deps.db)
  if (!cache) caches.set(deps.db, (cache = new Map()))
  const record = await findApiKey(deps.db, id)
  const entry: CacheEntry = {
    key: record && {
      identity: identityOf(record),
      hash: fromBase64Url(record.secretHash),
      revoked: record.revokedAt !== null,
    },
    fetchedAt: now,
    lastUsedAt: record?.lastUsedAt ?? null,
  }
  cache.delete(id)
  if (cache.size >= CACHE_MAX_ENTRIES) cache.delete(cache.keys().next().value!)
  cache.set(id, entry)
  return entry
}

const identityOf = (r: ApiKeyRecord): ApiKeyIdentity =>
  Object.freeze({ id: r.id, name: r.name, scopes: Object.freeze(r.scopes.filter(isApiKeyScope)) })

/**
 * Plain, unsalted SHA-256 is the right hash here: the secret is 256 random bits, so neither salts nor
 * a slow password hash add anything (GitHub and Stripe tokens are stored the same way), and a fast
 * hash keeps key checks cheap. It is also independent of APP_SECRET, so rotating that keeps keys valid.
 */
async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data))
}
