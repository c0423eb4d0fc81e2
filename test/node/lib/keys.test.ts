import { describe, expect, it } from 'vitest'
import { blindIndexes, blindIndexWith, normalizeEmail } from '../../../src/lib/email.ts'
import {
  decryptField,
  deriveKeys,
  encryptField,
  needsRekey,
  webHmacSha256,
} from '../../../src/lib/keys.ts'
import { nodeHmacSha256 } from '../../../src/runtime/node/crypto.ts'
import { KEY_VECTORS } from '../../fixtures/key-vectors.ts'

describe('keys derived from APP_SECRET', () => {
  it('are stable: the same vectors as in workerd (test/worker/runtime.test.ts)', async () => {
    const keys = await deriveKeys(KEY_VECTORS.secret)
    expect(keys.current.kid).toBe(KEY_VECTORS.kid)
    expect(await blindIndexWith(nodeHmacSha256, keys.current, KEY_VECTORS.email)).toBe(
      KEY_VECTORS.blindIndex,
    )
  })

  it('match an independent HKDF-SHA256 + HMAC computed with node:crypto', async () => {
    const { createHmac, hkdfSync } = await import('node:crypto')
    const salt = 'consent-gateway/v1'
    const bidxKey = Buffer.from(
      hkdfSync('sha256', KEY_VECTORS.secret, salt, 'email-blind-index', 32),
    )
    const expected = createHmac('sha256', bidxKey).update(KEY_VECTORS.email).digest('base64url')
    expect(expected).toBe(KEY_VECTORS.blindIndex)
    const kid = Buffer.from(hkdfSync('sha256', KEY_VECTORS.secret, salt, 'key-id', 4)).toString(
      'hex',
    )
    expect(`k${kid}`).toBe(KEY_VECTORS.kid)
  })

  it('node:crypto and WebCrypto HMAC agree', async () => {
    const keys = await deriveKeys(KEY_VECTORS.secret)
    const data = new TextEncoder().encode('anne+news@exemple.fr')
    expect(Buffer.from(await webHmacSha256(keys.current.blindIndex, data))).toEqual(
      Buffer.from(nodeHmacSha256(keys.current.blindIndex, data) as Uint8Array),
    )
  })

  it('separates the three keys and changes them all with the secret', async () => {
    const a = await deriveKeys('a'.repeat(40))
    const b = await deriveKeys('b'.repeat(40))
    expect(Buffer.from(a.current.signing)).not.toEqual(Buffer.from(a.current.blindIndex))
    expect(a.current.kid).not.toBe(b.current.kid)
    expect(Buffer.from(a.current.signing)).not.toEqual(Buffer.from(b.current.signing))
  })

  it('encrypts with a fresh IV and decrypts what it wrote', async () => {
    const keys = await deriveKeys('a'.repeat(40))
    const one = await encryptField(keys, 'Anne Dupont')
    const two = await encryptField(keys, 'Anne Dupont')
    expect(one).not.toBe(two)
    expect(one).not.toContain('Anne')
    expect(one.startsWith(`${keys.current.kid}.`)).toBe(true)
    expect(await decryptField(keys, one)).toBe('Anne Dupont')
  })

  it('detects tampering and a wrong associated context', async () => {
    const keys = await deriveKeys('a'.repeat(40))
    const value = await encryptField(keys, 'secret', 'contacts.email:1')
    const flipped = value.slice(0, -2) + (value.at(-2) === 'A' ? 'B' : 'A') + value.slice(-1)
    await expect(decryptField(keys, flipped, 'contacts.email:1')).rejects.toThrow()
    await expect(decryptField(keys, value, 'contacts.email:2')).rejects.toThrow()
  })

  it('keeps old data readable during a rotation (APP_SECRET_PREVIOUS)', async () => {
    const old = await deriveKeys('old-'.repeat(10))
    const written = await encryptField(old, 'anne@exemple.fr')
    const rotated = await deriveKeys('new-'.repeat(10), 'old-'.repeat(10))
    expect(await decryptField(rotated, written)).toBe('anne@exemple.fr')
    expect(needsRekey(rotated, written)).toBe(true)
    expect(needsRekey(rotated, await encryptField(rotated, 'x'))).toBe(false)
    const withoutPrevious = await deriveKeys('new-'.repeat(10))
    await expect(decryptField(withoutPrevious, written)).rejects.toThrow(/unknown key id/)
    const [current, previous] = await blindIndexes(nodeHmacSha256, rotated, 'anne@exemple.fr')
    expect(previous).toBe(await blindIndexWith(nodeHmacSha256, old.current, 'anne@exemple.fr'))
    expect(current).not.toBe(previous)
  })
})

describe('normalizeEmail', () => {
  it.each([
    ['  Anne.Dupont@Exemple.FR ', 'anne.dupont@exemple.fr'],
    ['Anne+News@exemple.fr', 'anne+news@exemple.fr'],
    ['jose@Société.fr', 'jose@xn--socit-esab.fr'],
    ['x@sub.domain.example', 'x@sub.domain.example'],
  ])('%s -> %s', (input, expected) => expect(normalizeEmail(input)).toBe(expected))

  it.each([
    '',
    'anne',
    '@exemple.fr',
    'anne@',
    'anne@localhost',
    'a b@exemple.fr',
    'a@exa mple.fr',
    `${'a'.repeat(65)}@x.fr`,
  ])('rejects %j', (input) => expect(normalizeEmail(input)).toBeNull())
})
