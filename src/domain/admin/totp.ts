/**
 * @module Time-based one-time passwords (RFC 6238 over RFC 4226) with `otpauth`: SHA-1, 6 digits,
 * 30-second steps, what every authenticator app expects. A code is accepted one step either side
 * (clock drift), and each step once: the caller records the step it accepted (second-factor.ts).
 */
import { Secret, TOTP } from 'otpauth'

export const TOTP_PERIOD_S = 30
export const TOTP_DIGITS = 6

/** A fresh 160-bit secret (RFC 4226 §4 recommends 160 bits), base32 for the app. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32

const totp = (secret: string, issuer = '', label = 'admin') =>
  new TOTP({
    issuer,
    label,
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
  })

/** The otpauth:// URI an authenticator app reads from the QR code. */
export const totpUri = (secret: string, issuer: string, label: string): string =>
  totp(secret, issuer, label).toString()

/** The step (30-second counter) `code` belongs to, within one step of `now`; null when it matches none. */
export function totpStepOf(secret: string, code: string, now: number): number | null {
  const token = code.replace(/\s+/g, '')
  if (!/^\d{6}$/.test(token)) return null
  const t = totp(secret)
  const delta = t.validate({ token, timestamp: now, window: 1 })
  return delta === null ? null : t.counter({ timestamp: now }) + delta
}

/** The current code (tests, and nothing else: the server never shows a code). */
export const totpCode = (secret: string, now: number): string =>
  totp(secret).generate({ timestamp: now })
