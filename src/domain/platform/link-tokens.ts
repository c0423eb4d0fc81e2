/**
 * @module Signed link tokens: compact JWS, HS256 (RFC 7515, 7519) under the key derived from
 * APP_SECRET. They carry an opaque id and an audience (what the link does), never an address;
 * verification also accepts the previous secret's key during a rotation.
 *
 * Written here rather than with jose (which signs the consent receipts): jose only has WebCrypto,
 * whose HMAC on Node is an async round trip through the thread pool, and every page behind a link
 * verifies one. Here the HMAC is src/lib/sha256.ts's, with each key's pads hashed once: synchronous
 * on both runtimes (no promise, no call into native code), a few compressions for a token. The
 * format is jose's, byte for byte (tested both ways).
 */
import { base64UrlToText, toBase64Url, utf8 } from '../../lib/encoding.ts'
import type { Keys } from '../../lib/keys.ts'
import { keyedHmacSha256 } from '../../lib/sha256.ts'

export type TokenAudience = 'confirm' | 'unsubscribe' | 'preferences' | 'access' | 'reconsent'

export interface LinkClaims {
  sub: string
  /** Extra claims, e.g. the purpose an unsubscribe link is for. */
  [claim: string]: unknown
}

const b64json = (value: unknown) => toBase64Url(utf8(JSON.stringify(value)))

/** A JWS signing input: base64url text, so ASCII, one byte a character (no UTF-8 encoder needed). */
function ascii(text: string, end: number): Uint8Array {
  const bytes = new Uint8Array(end)
  for (let i = 0; i < end; i++) bytes[i] = text.charCodeAt(i)
  return bytes
}

/** The JWS signature (base64url, no padding) of a signing input under a key. */
const signatureOf = (key: Uint8Array, input: Uint8Array) => toBase64Url(keyedHmacSha256(key)(input))

export function signLinkToken(
  keys: Keys,
  aud: TokenAudience,
  claims: LinkClaims,
  expiresAtMs: number,
  nowMs: number,
): string {
  const header = b64json({ alg: 'HS256', kid: keys.current.kid })
  const payload = b64json({
    ...claims,
    aud,
    iat: Math.floor(nowMs / 1000),
    exp: Math.floor(expiresAtMs / 1000),
  })
  const input = `${header}.${payload}`
  return `${input}.${signatureOf(keys.current.signing, ascii(input, input.length))}`
}

export type VerifiedToken =
  | { status: 'valid'; claims: LinkClaims }
  | { status: 'expired'; claims: LinkClaims } // signature good, too old: pages can still offer a way on
  | { status: 'invalid' }

const INVALID: VerifiedToken = { status: 'invalid' }
/**
 * Three base64url parts, the last an HS256 signature (32 bytes: 43 characters). One test instead of
 * a split and three: every page behind a link runs this.
 */
const COMPACT_HS256 = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/

function parseJson(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(base64UrlToText(part)) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * Whether a protected header is one we accept. Tokens signed with one key all carry the same header,
 * so its verdict is remembered (a few headers at most; a flood of made-up ones only empties this).
 */
const headerVerdicts = new Map<string, boolean>()
function acceptableHeader(h: string): boolean {
  let ok = headerVerdicts.get(h)
  if (ok === undefined) {
    const header = parseJson(h)
    // Only HS256: never `none`, never an algorithm the token chooses for itself (RFC 8725 §3.1).
    ok = header !== null && header.alg === 'HS256' && header.crit === undefined
    if (headerVerdicts.size >= 16) headerVerdicts.clear()
    headerVerdicts.set(h, ok)
  }
  return ok
}

/** Compares two ASCII strings in time independent of where they differ. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

export function verifyLinkToken(
  keys: Keys,
  token: string,
  aud: TokenAudience,
  nowMs: number,
): VerifiedToken {
  if (token.length > 2048) return INVALID
  const parts = COMPACT_HS256.exec(token)
  if (!parts || !acceptableHeader(parts[1]!)) return INVALID
  // The signature as the signer writes it (base64url, no padding), compared as text.
  const input = ascii(token, token.length - 44) // the regular expression above let only ASCII through
  const signature = parts[3]!
  let authentic = sameText(signatureOf(keys.current.signing, input), signature)
  if (keys.previous)
    authentic = sameText(signatureOf(keys.previous.signing, input), signature) || authentic
  if (!authentic) return INVALID

  const claims = parseJson(parts[2]!)
  if (!claims || typeof claims.sub !== 'string') return INVALID
  const audience = claims.aud
  if (!(audience === aud || (Array.isArray(audience) && audience.includes(aud)))) return INVALID
  if (typeof claims.exp !== 'number') return INVALID
  // As jose: expired once `exp` (seconds) is reached.
  if (claims.exp <= Math.floor(nowMs / 1000))
    return { status: 'expired', claims: claims as LinkClaims }
  return { status: 'valid', claims: claims as LinkClaims }
}
