// Link tokens: compact JWS HS256 made and checked synchronously, in jose's exact format (jose
// verifies ours, we verify jose's), with no way around the signature.
import { jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { signLinkToken, verifyLinkToken } from '../../../../src/domain/platform/link-tokens.ts'
import { toBase64Url, utf8 } from '../../../../src/lib/encoding.ts'
import { deriveKeys } from '../../../../src/lib/keys.ts'
import { nodeAead } from '../../../../src/runtime/node/crypto.ts'
import { TEST_NOW, TEST_SECRET } from '../../../helpers/deps.ts'

const keys = await deriveKeys(TEST_SECRET, undefined, nodeAead)
const YEAR = 365 * 86_400_000

describe('link tokens', () => {
  it('are read by jose, and jose-made ones by us, whatever the claims', async () => {
    // Claims of every length: the signing input crosses SHA-256's block boundaries (64 bytes).
    for (const sub of ['c1', 'c'.repeat(40), 'é'.repeat(30), 'x'.repeat(200)]) {
      const ours = signLinkToken(keys, 'preferences', { sub }, TEST_NOW + YEAR, TEST_NOW)
      const { payload, protectedHeader } = await jwtVerify(ours, keys.current.signing, {
        audience: 'preferences',
        currentDate: new Date(TEST_NOW),
      })
      expect(payload).toMatchObject({ sub, aud: 'preferences' })
      expect(protectedHeader).toEqual({ alg: 'HS256', kid: keys.current.kid })
      const theirs = await new SignJWT({ p: 'newsletter' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(sub)
        .setAudience('unsubscribe')
        .setExpirationTime(Math.floor((TEST_NOW + YEAR) / 1000))
        .sign(keys.current.signing)
      expect(verifyLinkToken(keys, theirs, 'unsubscribe', TEST_NOW)).toEqual({
        status: 'valid',
        claims: expect.objectContaining({ sub, p: 'newsletter' }),
      })
    }
  })

  it('tells an expired but authentic token from a forged one', async () => {
    const token = signLinkToken(keys, 'access', { sub: 'c1' }, TEST_NOW + 3600_000, TEST_NOW)
    expect(verifyLinkToken(keys, token, 'access', TEST_NOW + 3600_000).status).toBe('expired')
    const [h, p] = token.split('.')
    const forgedPayload = toBase64Url(utf8(JSON.stringify({ sub: 'c9', aud: 'access', exp: 9e9 })))
    expect(
      await verifyLinkToken(
        keys,
        `${h}.${forgedPayload}.${token.split('.')[2]}`,
        'access',
        TEST_NOW,
      ),
    ).toEqual({ status: 'invalid' })
    expect(await verifyLinkToken(keys, `${h}.${p}.`, 'access', TEST_NOW)).toEqual({
      status: 'invalid',
    })
  })

  it('refuses alg "none", another audience, another secret, and garbage', async () => {
    const token = await signLinkToken(keys, 'confirm', { sub: 'r1' }, TEST_NOW + YEAR, TEST_NOW)
    const [, p] = token.split('.')
    const none = `${toBase64Url(utf8('{"alg":"none"}'))}.${p}.`
    expect((await verifyLinkToken(keys, none, 'confirm', TEST_NOW)).status).toBe('invalid')
    expect((await verifyLinkToken(keys, token, 'unsubscribe', TEST_NOW)).status).toBe('invalid')
    const other = await deriveKeys(
      'another-secret-0123456789-abcdefghijklmnop',
      undefined,
      nodeAead,
    )
    expect((await verifyLinkToken(other, token, 'confirm', TEST_NOW)).status).toBe('invalid')
    for (const junk of ['', 'a.b', 'a.b.c', '..', 'x'.repeat(3000), `${token}x`])
      expect((await verifyLinkToken(keys, junk, 'confirm', TEST_NOW)).status).toBe('invalid')
  })

  it('still accepts the previous secret during a rotation', async () => {
    const token = await signLinkToken(keys, 'confirm', { sub: 'r1' }, TEST_NOW + YEAR, TEST_NOW)
    const rotated = await deriveKeys(
      'a-brand-new-secret-0123456789-abcdefghij',
      TEST_SECRET,
      nodeAead,
    )
    expect((await verifyLinkToken(rotated, token, 'confirm', TEST_NOW)).status).toBe('valid')
  })
})
