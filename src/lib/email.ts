/** @module E-mail address normalisation and the keyed blind index used for every look-up. */
import { toBase64Url, utf8 } from './encoding.ts'
import type { HmacSha256, KeySet, Keys } from './keys.ts'

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
  let domain: string
  try {
    domain = new URL(`http://${value.slice(at + 1)}`).hostname // IDNA to ASCII, lower-cased
  } catch {
    return null
  }
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(domain)) return null
  return `${local}@${domain}`
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
