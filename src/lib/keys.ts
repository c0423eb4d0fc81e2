/**
 * @module Keys derived from APP_SECRET with HKDF (WebCrypto): link signing, field encryption (AES-GCM)
 * and the e-mail blind index (HMAC). Each key set carries a key id, so data written under the previous
 * secret (APP_SECRET_PREVIOUS) stays readable while it is re-keyed.
 */
import { fromBase64Url, fromUtf8, toBase64Url, toHex, utf8, type Bytes } from './encoding.ts'
import { randomBytes } from './random.ts'

/** HMAC-SHA256; Node injects node:crypto (much faster, synchronous), Workers use WebCrypto. */
export type HmacSha256 = (key: Bytes, data: Bytes) => Uint8Array | Promise<Uint8Array>

export interface KeySet {
  /** Short id stored next to what this key set produced ("k" + 8 hex digits). */
  kid: string
  /** Raw HS256 secret for link tokens (jose). */
  signing: Bytes
  /** Raw AES-256-GCM key for personal fields at rest. */
  encryption: Bytes
  /** Raw HMAC key for the blind index of e-mail addresses. */
  blindIndex: Bytes
}

export interface Keys {
  current: KeySet
  previous?: KeySet
  byKid(kid: string): KeySet | undefined
  /** The AES-GCM implementation to use with these keys (node:crypto on Node, WebCrypto on Workers). */
  aead: Aead
}

/**
 * AES-256-GCM over raw key bytes; the output is ciphertext || 16-byte tag, as WebCrypto writes it, so
 * both implementations read each other's data. Node injects node:crypto's (synchronous, and an order
 * of magnitude faster than WebCrypto's thread-pool round trip for small fields).
 */
export interface Aead {
  seal(key: Bytes, iv: Bytes, plaintext: Bytes, aad: Bytes): Uint8Array | Promise<Uint8Array>
  open(key: Bytes, iv: Bytes, sealed: Bytes, aad: Bytes): Uint8Array | Promise<Uint8Array>
}

const importedKeys = new WeakMap<Bytes, Promise<CryptoKey>>()
function aesKey(raw: Bytes): Promise<CryptoKey> {
  let key = importedKeys.get(raw)
  if (!key)
    importedKeys.set(
      raw,
      (key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])),
    )
  return key
}

export const webAead: Aead = {
  async seal(key, iv, plaintext, aad) {
    return new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv, additionalData: aad },
        await aesKey(key),
        plaintext,
      ),
    )
  },
  async open(key, iv, sealed, aad) {
    return new Uint8Array(
      await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv, additionalData: aad },
        await aesKey(key),
        sealed,
      ),
    )
  },
}

// The salt is fixed and public: HKDF's security rests on the secret; the info strings separate the keys.
const SALT = utf8('consent-gateway/v1')

async function hkdf(root: CryptoKey, info: string, bits = 256): Promise<Bytes> {
  const params = { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: utf8(info) }
  return new Uint8Array(await crypto.subtle.deriveBits(params, root, bits))
}

export async function deriveKeySet(secret: string): Promise<KeySet> {
  const root = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveBits'])
  const [kid, signing, encryption, blindIndex] = await Promise.all([
    hkdf(root, 'key-id', 32),
    hkdf(root, 'link-signing'),
    hkdf(root, 'field-encryption'),
    hkdf(root, 'email-blind-index'),
  ])
  return { kid: `k${toHex(kid)}`, signing, encryption, blindIndex }
}

export async function deriveKeys(
  secret: string,
  previousSecret?: string,
  aead: Aead = webAead,
): Promise<Keys> {
  const current = await deriveKeySet(secret)
  const previous = previousSecret ? await deriveKeySet(previousSecret) : undefined
  return {
    current,
    previous,
    byKid: (kid) => (kid === current.kid ? current : kid === previous?.kid ? previous : undefined),
    aead,
  }
}

/** What encrypting needs of the keys: the current key and its id, and the cipher (a thread gets only these). */
export interface FieldSealer {
  current: Pick<KeySet, 'kid' | 'encryption'>
  aead: Aead
}

/** Encrypts a personal field: "kid.base64url(iv || ciphertext+tag)". A fresh 96-bit IV every time. */
export async function encryptField(
  keys: FieldSealer,
  plaintext: string,
  aad = '',
): Promise<string> {
  return `${keys.current.kid}.${await sealBytes(keys.aead, keys.current.encryption, utf8(plaintext), aad)}`
}

/** Decrypts with whichever key set wrote the value; throws when the key is unknown or the data altered. */
export async function decryptField(keys: Keys, value: string, aad = ''): Promise<string> {
  const dot = value.indexOf('.')
  const set = keys.byKid(value.slice(0, dot))
  if (dot < 0 || !set) throw new Error('encrypted field: unknown key id')
  return fromUtf8(await openBytes(keys.aead, set.encryption, value.slice(dot + 1), aad))
}

/** base64url(iv || ciphertext || tag) with a fresh 96-bit IV. */
export async function sealBytes(
  aead: Aead,
  key: Bytes,
  plaintext: Bytes,
  aad: string,
): Promise<string> {
  const iv = randomBytes(12)
  const ct = await aead.seal(key, iv, plaintext, utf8(aad))
  const out = new Uint8Array(iv.length + ct.length)
  out.set(iv)
  out.set(ct, iv.length)
  return toBase64Url(out)
}

/** Reverses sealBytes; throws when the data, the key or the associated context is not the one sealed. */
export async function openBytes(
  aead: Aead,
  key: Bytes,
  sealed: string,
  aad: string,
): Promise<Uint8Array> {
  const raw = fromBase64Url(sealed)
  return aead.open(key, raw.slice(0, 12), raw.slice(12), utf8(aad))
}

/** True when a value was written with an older key set and should be re-encrypted. */
export const needsRekey = (keys: Keys, value: string): boolean =>
  !value.startsWith(`${keys.current.kid}.`)

export type Sha256 = (data: Bytes) => Uint8Array | Promise<Uint8Array>

/** WebCrypto SHA-256, the portable default for `Sha256`. */
export const webSha256: Sha256 = async (data) =>
  new Uint8Array(await crypto.subtle.digest('SHA-256', data))

/** WebCrypto HMAC-SHA256, the portable default for `HmacSha256`. */
export const webHmacSha256: HmacSha256 = async (key, data) => {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data))
}
