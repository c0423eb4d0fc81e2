/**
 * @module Staff passwords: PBKDF2-SHA-256 through WebCrypto (NIST SP 800-132; OWASP's Password Storage
 * Cheat Sheet asks for 600,000 iterations). workerd refuses more than 100,000 iterations, so the count
 * is a runtime dependency (`deps.pbkdf2Iterations`): 600,000 on Node, 100,000 on Workers. The algorithm,
 * count and salt are stored beside each hash, and a hash made with fewer iterations than the runtime's
 * is made again at the next successful sign-in. Strength (NIST SP 800-63B §3.1.1.2): at least 12
 * characters and no common or guessable password, judged by zxcvbn-ts with its common, English and
 * French dictionaries; never composition rules.
 */
import type { ZxcvbnFactory } from '@zxcvbn-ts/core'
import { fromBase64Url, timingSafeEqual, toBase64Url, utf8 } from '../../lib/encoding.ts'
import { randomBytes } from '../../lib/random.ts'

export const PASSWORD_ALG = 'pbkdf2-sha256' as const
export const NODE_PBKDF2_ITERATIONS = 600_000
/** workerd's limit for PBKDF2 (it throws above it). */
export const WORKERS_PBKDF2_ITERATIONS = 100_000
export const PASSWORD_MIN_LENGTH = 12
/** Long enough for any passphrase; bounds the work a sign-in can ask of the server. */
export const PASSWORD_MAX_LENGTH = 256
/** zxcvbn's score (0-4) a password must reach: 3 is "safely unguessable: moderate protection". */
const MIN_SCORE = 3

export interface StoredPassword {
  alg: typeof PASSWORD_ALG
  iterations: number
  salt: string
  hash: string
}

async function pbkdf2(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number) {
  const key = await crypto.subtle.importKey(
    'raw',
    utf8(password.normalize('NFC')),
    'PBKDF2',
    false,
    ['deriveBits'],
  )
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256),
  )
}

export async function hashPassword(password: string, iterations: number): Promise<StoredPassword> {
  const salt = randomBytes(16)
  const hash = await pbkdf2(password, salt, iterations)
  return { alg: PASSWORD_ALG, iterations, salt: toBase64Url(salt), hash: toBase64Url(hash) }
}

/** Compares in constant time; false for an unknown algorithm or a malformed record. */
export async function verifyPassword(password: string, stored: StoredPassword): Promise<boolean> {
  if (stored.alg !== PASSWORD_ALG || !(stored.iterations > 0)) return false
  if (password.length > PASSWORD_MAX_LENGTH) return false
  const hash = await pbkdf2(password, fromBase64Url(stored.salt), stored.iterations)
  return timingSafeEqual(hash, fromBase64Url(stored.hash))
}

/**
 * A record to compare against when the account is unknown, so that an unknown address costs the same
 * time as a wrong password (no user enumeration by timing).
 */
const decoys = new Map<number, Promise<StoredPassword>>()
export function decoyPassword(iterations: number): Promise<StoredPassword> {
  let d = decoys.get(iterations)
  if (!d) decoys.set(iterations, (d = hashPassword(toBase64Url(randomBytes(18)), iterations)))
  return d
}

export const needsRehash = (stored: { iterations: number | null }, runtimeIterations: number) =>
  (stored.iterations ?? 0) < runtimeIterations

/**
 * zxcvbn and its dictionaries, loaded the first time a password is judged (and kept from then on).
 * Imported with the module, their word lists (about 300,000 strings, 15 MB) were half of the objects
 * in the gateway's heap, which every full garbage collection marks, and each Worker isolate
 * decompressed them at its start; only a staff member setting a password uses them
 * (bench/results.md, "Measurements behind design choices"). A failed load is tried again next time.
 */
let zxcvbn: Promise<ZxcvbnFactory> | undefined
function estimator(): Promise<ZxcvbnFactory> {
  zxcvbn ??= Promise.all([
    import('@zxcvbn-ts/core'),
    import('@zxcvbn-ts/language-common'),
    import('@zxcvbn-ts/language-en'),
    import('@zxcvbn-ts/language-fr'),
  ]).then(
    ([{ ZxcvbnFactory }, common, en, fr]) =>
      new ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary, ...fr.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
      }),
    (err: unknown) => {
      zxcvbn = undefined
      throw err
    },
  )
  return zxcvbn
}

export type PasswordProblem = 'too_short' | 'too_long' | 'too_weak'

/**
 * Null when the password is acceptable, else why not. `userInputs` (the address, the organisation's
 * name) count as guessable words.
 */
export async function passwordProblem(
  password: string,
  userInputs: string[] = [],
): Promise<PasswordProblem | null> {
  if ([...password].length < PASSWORD_MIN_LENGTH) return 'too_short'
  if (password.length > PASSWORD_MAX_LENGTH) return 'too_long'
  const inputs = userInputs.flatMap((s) => [s, ...s.split(/[@.\s_-]+/)]).filter((s) => s.length > 2)
  return (await estimator()).check(password, inputs).score < MIN_SCORE ? 'too_weak' : null
}
