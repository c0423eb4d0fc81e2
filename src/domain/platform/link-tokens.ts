/**
 * @module Signed link tokens: compact JWS, HS256 (RFC 7515, 7519) under the key derived from
 * APP_SECRET. They carry an opaque id and an audience (what the link does), never an address;
 * verification also accepts the previous secret's key during a rotation.
 *
 * Written here rather than with jose (which signs the consent receipts): jose only has WebCrypto,
 * whose HMAC on Node is an async round trip through the thread pool, and every page behind a link
 * verifies one. With the injected HMAC (node:crypto, synchronous, on Node; WebCrypto on Workers) a
 * check costs a few microseconds. The format is jose's, byte for byte (tested both ways).
 */
import { fromBase64Url, fromUtf8, timingSafeEqual, toBase64Url, utf8 } from '../../lib/encoding.ts'
import { webHmacSha256, type HmacSha256, type Keys, type KeySet } from '../../lib/keys.ts'

export type TokenAudience = 'confirm' | 'unsubscribe' | 'preferences' | 'access' | 'reconsent'

export interface LinkClaims {
  sub: string
  /** Extra claims, e.g. the purpose an unsubscribe link is for. */
  [claim: string]: unknown
}

const b64json = (value: unknown) => toBase64Url(utf8(JSON.stringify(value)))

export async function signLinkToken(
  keys: Keys,
  aud: TokenAudience,
  claims: LinkClaims,
  expiresAtMs: number,
  nowMs: number,
  hmac: HmacSha256 = webHmacSha256,
): Promise<string> {
  const header = b64json({ alg: 'HS256', kid: keys.current.kid })
  const payload = b64json({
    ...claims,
    aud,
    iat: Math.floor(nowMs / 1000),
    exp: Math.floor(expiresAtMs / 1000),
  })
  const input = `${header}.${payload}`
  return `${input}.${toBase64Url(await hmac(keys.current.signing, utf8(input)))}`
}

export type VerifiedToken =
  | { status: 'valid'; claims: LinkClaims }
  | { status: 'expired'; claims: LinkClaims } // signature good, too old: pages can still offer a way on
  | { status: 'invalid' }

const INVALID: VerifiedToken = { status: 'invalid' }
const B64URL = /^[A-Za-z0-9_-]+$/

function parseJson(part: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(fromUtf8(fromBase64Url(part))) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export async function verifyLinkToken(
  keys: Keys,
  token: string,
  aud: TokenAudience,
  nowMs: number,
  hmac: HmacSha256 = webHmacSha256,
): Promise<VerifiedToken> {
  if (token.length > 2048) return INVALID
  const parts = token.split('.')
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return INVALID
  const [h, p, s] = parts as [string, string, string]
  const header = parseJson(h)
  // Only HS256: never `none`, never an algorithm the token chooses for itself (RFC 8725 §3.1).
  if (!header || header.alg !== 'HS256' || header.crit !== undefined) return INVALID
  const signature = fromBase64Url(s)
  const input = utf8(`${h}.${p}`)
  const sets = [keys.current, keys.previous].filter((k): k is KeySet => k !== undefined)
  let authentic = false
  for (const set of sets)
    if (timingSafeEqual(await hmac(set.signing, input), signature)) authentic = true
  if (!authentic) return INVALID

  const claims = parseJson(p)
  if (!claims || typeof claims.sub !== 'string') return INVALID
  const audience = claims.aud
  if (!(audience === aud || (Array.isArray(audience) && audience.includes(aud)))) return INVALID
  if (typeof claims.exp !== 'number') return INVALID
  // As jose: expired once `exp` (seconds) is reached.
  if (claims.exp <= Math.floor(nowMs / 1000))
    return { status: 'expired', claims: claims as LinkClaims }
  return { status: 'valid', claims: claims as LinkClaims }
}
