/**
 * @module Keys derived from APP_SECRET with HKDF (WebCrypto): link signing, field encryption (AES-GCM)
 * and the e-mail blind index (HMAC). Each key set carries a key id, so data written under the previous
 * secret (APP_SECRET_PREVIOUS) stays readable while it is re-keyed.
 */
import { fromBase64Url, fromUtf8, toBase64Url, toHex, utf8, type Bytes } from './encoding.ts'

/** HMAC-SHA256; Node injects node:crypto (much faster, synchronous), Workers use WebCrypto. */
export type HmacSha256 = (key: Bytes, data: Bytes) => Uint8Array | Promise<Uint8Array>

export interface KeySet {
  /** Short id stored next to what this key set produced ("k" + 8 hex digits). */
  kid: string
  /** Raw HS256 secret for link tokens (jose). */
  signing: Bytes
  /** AES-256-GCM key for personal fields at rest. */
  encryption: CryptoKey
  /** Raw HMAC key for the blind index of e-mail addresses. */
  blindIndex: Bytes
}

export interface Keys {
  current: KeySet
  previous?: KeySet
  byKid(kid: string): KeySet | undefined
}

// The salt is fixed and public: HKDF's security rests on the secret; the info strings separate the keys.
const SALT = utf8('consent-gateway/v1')

async function hkdf(root: CryptoKey, info: string, bits = 256): Promise<Bytes> {
  const params = { name: 'HKDF', hash: 'SHA-256', salt: SALT, info: utf8(info) }
  return new Uint8Array(await crypto.subtle.deriveBits(params, root, bits))
}

export async function deriveKeySet(secret: string): Promise<KeySet> {
  const root = await crypto.subtle.importKey('raw', utf8(secret), 'HKDF', false, ['deriveBits'])
  const [kid, signing, encRaw, blindIndex] = await Promise.all([
    hkdf(root, 'key-id', 32),
    hkdf(root, 'link-signing'),
    hkdf(root, 'field-encryption'),
    hkdf(root, 'email-blind-index'),
  ])
  const encryption = await crypto.subtle.importKey('raw', encRaw, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
  return { kid: `k${toHex(kid)}`, signing, encryption, blindIndex }
}

export async function deriveKeys(secret: string, previousSecret?: string): Promise<Keys> {
  const current = await deriveKeySet(secret)
  const previous = previousSecret ? await deriveKeySet(previousSecret) : undefined
  return {
    current,
    previous,
    byKid: (kid) => (kid === current.kid ? current : kid === previous?.kid ? previous : undefined),
  }
}

/** Encrypts a personal field: "kid.base64url(iv || ciphertext+tag)". A fresh 96-bit IV every time. */
export async function encryptField(keys: Keys, plaintext: string, aad = ''): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const params = { name: 'AES-GCM', iv, additionalData: utf8(aad) }
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(params, keys.current.encryption, utf8(plaintext)),
  )
  const out = new Uint8Array(iv.length + ct.length)
  out.set(iv)
  out.set(ct, iv.length)
  return `${keys.current.kid}.${toBase64Url(out)}`
}

/** Decrypts with whichever key set wrote the value; throws when the key is unknown or the data altered. */
export async function decryptField(keys: Keys, value: string, aad = ''): Promise<string> {
  const dot = value.indexOf('.')
  const set = keys.byKid(value.slice(0, dot))
  if (dot < 0 || !set) throw new Error('encrypted field: unknown key id')
  const raw = fromBase64Url(value.slice(dot + 1))
  const params = { name: 'AES-GCM', iv: raw.slice(0, 12), additionalData: utf8(aad) }
  return fromUtf8(
    new Uint8Array(await crypto.subtle.decrypt(params, set.encryption, raw.slice(12))),
  )
}

/** True when a value was written with an older key set and should be re-encrypted. */
export const needsRekey = (keys: Keys, value: string): boolean =>
  !value.startsWith(`${keys.current.kid}.`)

/** WebCrypto HMAC-SHA256, the portable default for `HmacSha256`. */
export const webHmacSha256: HmacSha256 = async (key, data) => {
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, data))
}
