/** @module Byte helpers over Web-standard APIs only (runs on Node and workerd). */

/** Bytes backed by a plain ArrayBuffer, what WebCrypto accepts. */
export type Bytes = Uint8Array<ArrayBuffer>

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const utf8 = (s: string): Bytes => encoder.encode(s)
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b)

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'))

/** Lower-case hex; a table look-up per byte (every ledger event hashes and makes two ids). */
export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

/**
 * Node's Buffer where the runtime has one (Node; workerd with nodejs_compat): its native base64url is
 * much faster than btoa, which Node implements in JavaScript, on the KB-sized sealed fields (as
 * measured: bench/results.md, "Measurements behind design choices").
 */
const NodeBuffer = (
  globalThis as {
    Buffer?: {
      from(b: ArrayBuffer, offset: number, length: number): { toString(enc: 'base64url'): string }
      from(s: string, enc: 'base64url'): Uint8Array & { toString(enc: 'utf8'): string }
    }
  }
).Buffer

export function toBase64Url(bytes: Uint8Array): string {
  if (NodeBuffer)
    return NodeBuffer.from(
      bytes.buffer as ArrayBuffer,
      bytes.byteOffset,
      bytes.byteLength,
    ).toString('base64url')
  // A binary string in chunks (one char at a time is slow for the KB-sized sealed fields).
  let bin = ''
  for (let i = 0; i < bytes.length; i += 0x2000)
    bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x2000) as unknown as number[])
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export function fromBase64Url(s: string): Bytes {
  if (NodeBuffer && s.length % 4 !== 1 && B64URL_ONLY.test(s)) {
    const decoded = NodeBuffer.from(s, 'base64url')
    // A copy on a plain ArrayBuffer of its own (Buffers share a pool), as WebCrypto wants.
    return new Uint8Array(decoded) as Bytes
  }
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/**
 * base64url to the UTF-8 text it encodes (a token's JSON part): one native call on Node, where the
 * bytes need no copy of their own. Refuses what `fromBase64Url` refuses.
 */
export function base64UrlToText(s: string): string {
  if (NodeBuffer && s.length % 4 !== 1 && B64URL_ONLY.test(s))
    return NodeBuffer.from(s, 'base64url').toString('utf8')
  return fromUtf8(fromBase64Url(s))
}

/** Buffer's decoder skips characters outside the alphabet and a dangling last one; atob refuses both. */
const B64URL_ONLY = /^[A-Za-z0-9_-]*$/

/** Compares two byte strings in time independent of where they differ. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}
