// The plain-JS SHA-256/HMAC behind the bulk blind index must give exactly what node:crypto and
// WebCrypto give: an index computed one way has to find a row written the other way.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { blindIndexes, blindIndexesSync, normalizeEmail } from '../../../src/lib/email.ts'
import { deriveKeys, webHmacSha256 } from '../../../src/lib/keys.ts'
import { keyedHmacSha256, sha256 } from '../../../src/lib/sha256.ts'
import { nodeHmacSha256 } from '../../../src/runtime/node/crypto.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const ascii = (s: string) => new TextEncoder().encode(s)

describe('HMAC-SHA256 in plain JS', () => {
  // RFC 4231 §4.2, 4.3, 4.4, 4.7 (4.5 truncates the output; 4.6 and 4.8 use the same long key).
  it.each([
    [
      '0b'.repeat(20),
      hex(ascii('Hi There')),
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    ],
    [
      hex(ascii('Jefe')),
      hex(ascii('what do ya want for nothing?')),
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    ],
    [
      'aa'.repeat(20),
      'dd'.repeat(50),
      '773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe',
    ],
    [
      'aa'.repeat(131),
      hex(
        ascii(
          'This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.',
        ),
      ),
      '9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2',
    ],
  ])('RFC 4231 vector with a %s… key', (key, data, mac) => {
    expect(hex(keyedHmacSha256(fromHex(key))(fromHex(data)))).toBe(mac)
  })

  it('matches node:crypto for every length around the block boundaries, and any key length', () => {
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength)
      const mac = keyedHmacSha256(key)
      for (let n = 0; n <= 200; n++) {
        const data = randomBytes(n)
        expect(hex(mac(data))).toBe(createHmac('sha256', key).update(data).digest('hex'))
        expect(hex(sha256(data))).toBe(createHash('sha256').update(data).digest('hex'))
      }
    }
  })

  it('gives a fresh digest each call (no shared output buffer)', () => {
    const mac = keyedHmacSha256(randomBytes(32))
    const a = mac(ascii('a@exemple.fr'))
    const copy = hex(a)
    mac(ascii('b@exemple.fr'))
    expect(hex(a)).toBe(copy)
  })
})

describe('blindIndexesSync', () => {
  const addresses = [
    'anne@exemple.fr',
    'Anne.Marie+news@Exemple.FR',
    'élodie@exämple.fr', // UTF-8 local part, IDNA domain
    `${'a'.repeat(64)}@${'sub.'.repeat(40)}exemple.fr`, // several SHA-256 blocks
  ]

  it.each([
    ['one key', undefined],
    ['a rotation', 'previous-secret-0123456789-abcdefghijklmnop'],
  ])('equals blindIndexes (node:crypto and WebCrypto) under %s', async (_name, previous) => {
    const keys = await deriveKeys('current-secret-0123456789-abcdefghijklmnop', previous)
    for (const address of addresses) {
      const normalized = normalizeEmail(address)!
      const expected = await blindIndexes(nodeHmacSha256, keys, normalized)
      expect(await blindIndexes(webHmacSha256, keys, normalized)).toEqual(expected)
      expect(blindIndexesSync(keys, normalized)).toEqual([expected[0], expected[1] ?? null])
    }
  })
})

describe('normalizeEmail', () => {
  it('answers the same for a domain seen before (cached) as the first time', () => {
    for (let round = 0; round < 2; round++) {
      expect(normalizeEmail(' Anne@Exämple.FR ')).toBe('anne@xn--exmple-cua.fr')
      expect(normalizeEmail('anne@exemple')).toBeNull()
      expect(normalizeEmail('anne@exem ple.fr')).toBeNull()
    }
  })
})
