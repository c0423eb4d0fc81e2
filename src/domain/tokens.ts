/**
 * @module Signed link tokens (jose, HS256 under the key derived from APP_SECRET). They carry an opaque
 * id and an audience (what the link does), never an address; verification also accepts the previous
 * secret's key during a rotation.
 */
import { errors, jwtVerify, SignJWT } from 'jose'
import type { Keys } from '../lib/keys.ts'

export type TokenAudience = 'confirm' | 'unsubscribe' | 'preferences' | 'access'

export interface LinkClaims {
  sub: string
  /** Extra claims, e.g. the purpose an unsubscribe link is for. */
  [claim: string]: unknown
}

export async function signLinkToken(
  keys: Keys,
  aud: TokenAudience,
  claims: LinkClaims,
  expiresAtMs: number,
  nowMs: number,
): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256', kid: keys.current.kid })
    .setAudience(aud)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(expiresAtMs / 1000))
    .sign(keys.current.signing)
}

export type VerifiedToken =
  | { status: 'valid'; claims: LinkClaims }
  | { status: 'expired'; claims: LinkClaims } // signature good, too old: pages can still offer a way on
  | { status: 'invalid' }

export async function verifyLinkToken(
  keys: Keys,
  token: string,
  aud: TokenAudience,
  nowMs: number,
): Promise<VerifiedToken> {
  if (token.length > 2048 || token.split('.').length !== 3) return { status: 'invalid' }
  const sets = keys.previous ? [keys.current, keys.previous] : [keys.current]
  for (const set of sets) {
    try {
      const { payload } = await jwtVerify(token, set.signing, {
        audience: aud,
        algorithms: ['HS256'],
        currentDate: new Date(nowMs),
      })
      if (typeof payload.sub !== 'string') return { status: 'invalid' }
      return { status: 'valid', claims: payload as LinkClaims }
    } catch (err) {
      // jose checks the signature before the claims: an expired token here is authentic.
      if (err instanceof errors.JWTExpired && typeof err.payload.sub === 'string')
        return { status: 'expired', claims: err.payload as LinkClaims }
    }
  }
  return { status: 'invalid' }
}
