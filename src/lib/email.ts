/** @module E-mail address normalisation and the keyed blind index used for every look-up. */
import { fromUtf8, toBase64Url, utf8 } from './encoding.ts'
import type { HmacSha256, KeySet, Keys } from './keys.ts'
import { keyedHmacSha256 } from './sha256.ts'

/**
 * Trimmed, whole address lower-cased, domain in ASCII (punycode) form; `+tags` are kept (they may be
 * distinct mailboxes). Returns null when the input is not an address.
 */
export function normalizeEmail(input: string): string | null {
  const value = input.trim()
  const at = value.lastIndexOf('@')
  if (at < 1 || at === value.length - 1 || value.length > 254) return null
  const local = value.slice(0, at).toLowerCase()
  if (local.length > 64 || /[\s<>()[\]\\,;:"@]/.test(local)) return null
  const domain = asciiDomain(value.slice(at + 1))
  return domain === null ? null : `${local}@${domain}`
}

/**
 * Parsing a URL is most of what normalising costs, and a list holds few distinct domains: the answers
 * are kept (a pure function of the input; bounded, oldest first out).
 */
const domains = new Map<string, string | null>()

function asciiDomain(input: string): string | null {
  let domain = domains.get(input)
  if (domain !== undefined) return domain
  try {
    domain = new URL(`http://${input}`).hostname // IDNA to ASCII, lower-cased
  } catch {
    domain = null
  }
  if (domain !== null && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)) domain = null
  if (domains.size >= 1_000) domains.delete(domains.keys().next().value!)
  domains.set(input, domain)
  return domain
}

/** Blind index of a normalised address under one key set. */
export async function blindIndexWith(
  hmac: HmacSha256,
  set: KeySet,
  normalized: string,
): Promise<string> {
  return toBase64Url(await hmac(set.blindIndex, utf8(normalized)))
}

/** Blind indexes to look an address up by: current key first, then the previous one during a rotation. */
export async function blindIndexes(
  hmac: HmacSha256,
  keys: Keys,
  normalized: string,
): Promise<string[]> {
  const sets = keys.previous ? [keys.current, keys.previous] : [keys.current]
  return Promise.all(sets.map((s) => blindIndexWith(hmac, s, normalized)))
}

/**
 * `blindIndexes`, synchronously and in plain JS (lib/sha256.ts): the batch gate indexes a thousand
 * addresses a call, where a native or WebCrypto call per address costs more than the look-up.
 * Returns the current key's index, and the previous key's during a rotation.
 */
export function blindIndexesSync(keys: Keys, normalized: string): [string, string | null] {
  const data = addressBytes(normalized)
  const current = base64Url32(keyedHmacSha256(keys.current.blindIndex)(data))
  const previous = keys.previous && base64Url32(keyedHmacSha256(keys.previous.blindIndex)(data))
  return [current, previous ?? null]
}

const ASCII = new Uint8Array(256)

/** UTF-8 bytes of an address; most are ASCII, copied without a call into the encoder. */
function addressBytes(address: string): Uint8Array {
  if (address.length > ASCII.length) return utf8(address)
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i)
    if (code > 0x7f) return utf8(address)
    ASCII[i] = code
  }
  return ASCII.subarray(0, address.length)
}

const B64URL = Uint8Array.from(
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  (c) => c.charCodeAt(0),
)
const OUT = new Uint8Array(43)

/** base64url without padding of a 32-byte digest (43 characters), without btoa's string round trips. */
function base64Url32(b: Uint8Array): string {
  let j = 0
  for (let i = 0; i < 30; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!
    OUT[j++] = B64URL[n >>> 18]!
    OUT[j++] = B64URL[(n >>> 12) & 63]!
    OUT[j++] = B64URL[(n >>> 6) & 63]!
    OUT[j++] = B64URL[n & 63]!
  }
  const n = (b[30]! << 8) | b[31]!
  OUT[j++] = B64URL[n >>> 10]!
  OUT[j++] = B64URL[(n >>> 4) & 63]!
  OUT[j] = B64URL[(n << 2) & 63]!
  return fromUtf8(OUT) // ASCII
}
