/**
 * @module The token of a `mailto:` unsubscribe address (RFC 2369 List-Unsubscribe, sub-addressed as
 * `unsubscribe+TOKEN@…`, RFC 5233). A link token (a JWT) is far too long for a local part (64
 * characters, RFC 5321 §4.5.3.1.1), so this one is compact: the contact id, a 2-byte purpose tag and
 * an 8-byte HMAC, in lower-case base32 (local parts are often case-folded): 42 characters. It carries
 * no address and does not expire (a mail read a year later must still unsubscribe); a forgery needs
 * one SMTP delivery per guess of a 64-bit MAC.
 */
import type { Deps } from '../../deps.ts'
import { timingSafeEqual, utf8, type Bytes } from '../../lib/encoding.ts'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'
export const MAILTO_TOKEN_LENGTH = 42
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

type TokenDeps = Pick<Deps, 'keys' | 'hmac' | 'sha256'>

function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const b of bytes) {
    value = (value << 8) | b
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

function fromBase32(s: string): Bytes | null {
  const out: number[] = []
  let bits = 0
  let value = 0
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch)
    if (v < 0) return null
    value = ((value << 5) | v) & 0xffff
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255)
      bits -= 8
    }
  }
  return new Uint8Array(out)
}

const uuidBytes = (id: string) =>
  new Uint8Array(
    id
      .replace(/-/g, '')
      .match(/../g)!
      .map((h) => parseInt(h, 16)),
  )
const uuidOf = (b: Uint8Array) => {
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

async function purposeTag(deps: TokenDeps, purpose: string): Promise<Uint8Array> {
  return (await deps.sha256(utf8(`purpose:${purpose}`))).subarray(0, 2)
}

async function mac(deps: TokenDeps, key: Bytes, contactId: string, purpose: string) {
  // Domain-separated from the JWTs this key also signs (their input starts with "eyJ").
  return (
    await deps.hmac(key, utf8(`mailto-unsubscribe\u0000${contactId}\u0000${purpose}`))
  ).subarray(0, 8)
}

/** Only for contact ids that are UUIDs (every gateway contact id is). */
export async function mailtoToken(
  deps: TokenDeps,
  contactId: string,
  purpose: string,
): Promise<string> {
  if (!UUID.test(contactId)) throw new TypeError('mailtoToken: the contact id must be a UUID')
  const bytes = new Uint8Array(26)
  bytes.set(uuidBytes(contactId), 0)
  bytes.set(await purposeTag(deps, purpose), 16)
  bytes.set(await mac(deps, deps.keys.current.signing, contactId, purpose), 18)
  return base32(bytes)
}

/** The contact and purpose of a token, or null when it is not one of ours (constant-time MAC check). */
export async function readMailtoToken(
  deps: TokenDeps,
  token: string,
  purposes: Iterable<string>,
): Promise<{ contactId: string; purpose: string } | null> {
  const bytes = token.length === MAILTO_TOKEN_LENGTH ? fromBase32(token.toLowerCase()) : null
  if (!bytes || bytes.length !== 26) return null
  const contactId = uuidOf(bytes.subarray(0, 16))
  for (const purpose of purposes) {
    if (!timingSafeEqual(await purposeTag(deps, purpose), bytes.subarray(16, 18))) continue
    for (const set of [deps.keys.current, deps.keys.previous])
      if (
        set &&
        timingSafeEqual(await mac(deps, set.signing, contactId, purpose), bytes.subarray(18))
      )
        return { contactId, purpose }
  }
  return null
}
