/**
 * @module Recovery codes: ten per account, shown once at enrolment, each usable once when the
 * authenticator is lost. 50 random bits each (ten base32 characters): with sign-in throttling, far
 * beyond guessing; so a fast hash (SHA-256, salted with the account id) is enough to store them.
 */
import type { Deps } from '../../deps.ts'
import { toBase64Url, utf8 } from '../../lib/encoding.ts'
import { randomBytes } from '../../lib/random.ts'

export const RECOVERY_CODE_COUNT = 10
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789' // no 0/o, 1/l/i: read aloud or copied by hand

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const chars = Array.from(randomBytes(10), (b) => ALPHABET[b % 31]).join('') // bias under 1 %
    return `${chars.slice(0, 5)}-${chars.slice(5)}`
  })
}

/** Case, spaces and dashes do not matter when a code is typed. */
export const normalizeRecoveryCode = (code: string) => code.toLowerCase().replace(/[\s-]+/g, '')

export const looksLikeRecoveryCode = (code: string) =>
  /^[a-z0-9]{10}$/.test(normalizeRecoveryCode(code))

export async function hashRecoveryCode(
  deps: Pick<Deps, 'sha256'>,
  userId: string,
  code: string,
): Promise<string> {
  return toBase64Url(await deps.sha256(utf8(`recovery:${userId}:${normalizeRecoveryCode(code)}`)))
}
