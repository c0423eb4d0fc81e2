// Consent receipts and the JWKS on real SQLite: offline verification, rotation, races, encryption at rest.
import { Hono } from 'hono'
import {
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../src/config.ts'
import {
  CHECKPOINT_TYP,
  currentSigningKey,
  RECEIPT_TYP,
  rotateSigningKey,
  signReceipt,
  signStatement,
  verifyStatement,
} from '../../../../src/domain/consent/signing-keys.ts'
import { toBase64Url } from '../../../../src/lib/encoding.ts'
import { decryptField, needsRekey } from '../../../../src/lib/keys.ts'
import { nodeDeps } from '../../../../src/runtime/node/deps.ts'
import { applyMigrations, openSqlite } from '../../../../src/runtime/node/sqlite.ts'
import { wellKnownRoutes } from '../../../../src/routes/well-known.ts'
import { fixedClock, TEST_SECRET, testApp, testDeps } from '../../../helpers/deps.ts'

type Deps = Awaited<ReturnType<typeof testDeps>>['deps']
interface KeyRow {
  kid: string
  alg: string
  public_jwk: string
  private_jwk_enc: string
  retired_at: number | null
}

const RECEIPT = {
  contact: 'c-7f3a',
  consents: [
    { purpose: 'newsletter', status: 'granted', noticeId: 'n-1', grantedAt: 1764406800000 },
  ],
  history: [{ seq: 1, action: 'granted', hash: 'ab12' }],
  issuedAt: '2026-11-29T09:00:00.000Z',
}

const jwksApp = (deps: Deps) => new Hono().route('/.well-known', wellKnownRoutes(deps))

/** What an outside verifier has: the published JWKS, fetched once, and nothing of our database. */
async function fetchJwks(deps: Deps): Promise<JSONWebKeySet> {
  const res = await jwksApp(deps).request('/.well-known/jwks.json')
  expect(res.status).toBe(200)
  return (await res.json()) as JSONWebKeySet
}

const keyRows = (sqlite: { prepare(sql: string): { all(): unknown[] } }) =>
  sqlite.prepare('SELECT * FROM signing_keys ORDER BY created_at, kid').all() as KeyRow[]

/** Two processes on one SQLite file: separate connections, separate Kysely handles and caches. */
const tmpDirs: string[] = []
afterEach(() => tmpDirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
async function sharedFile(secrets: [string, string?][]) {
  const dir = mkdtempSync(join(tmpdir(), 'receipts-'))
  tmpDirs.push(dir)
  const file = join(dir, 'gateway.db')
  applyMigrations(openSqlite(file))
  return Promise.all(
    secrets.map(async ([secret, previous]) => {
      const sqlite = openSqlite(file)
      const config = parseConfig({ APP_SECRET: secret, APP_SECRET_PREVIOUS: previous })
      const clock = fixedClock()
      const deps = await nodeDeps({ config: { ...config, appSecret: secret }, sqlite, clock })
      return { deps, sqlite, clock }
    }),
  )
}

describe('consent receipts (ES256 compact JWS)', () => {
  it('verify offline with the published JWKS alone, payload intact', async () => {
    const { deps } = await testDeps()
    const receipt = await signReceipt(deps, RECEIPT)
    const jwks = createLocalJWKSet(await fetchJwks(deps))

    const { payload, protectedHeader } = await compactVerify(receipt, jwks, {
      algorithms: ['ES256'],
    })
    expect(new TextDecoder().decode(payload)).toBe(JSON.stringify(RECEIPT))
    expect(protectedHeader).toEqual({
      alg: 'ES256',
      kid: (await currentSigningKey(deps)).kid,
      typ: 'consent-receipt+jwt',
    })
    // A JWT library reads it too, typ checked.
    const jwt = await jwtVerify(receipt, jwks, { typ: RECEIPT_TYP, algorithms: ['ES256'] })
    expect(jwt.payload).toEqual(RECEIPT)
    expect(await verifyStatement(deps, receipt, RECEIPT_TYP)).toEqual(RECEIPT)
  })

  it('a tampered payload fails, offline and through verifyStatement', async () => {
    const { deps } = await testDeps()
    const [header, , signature] = (await signReceipt(deps, RECEIPT)).split('.')
    const forged = { ...RECEIPT, consents: [{ ...RECEIPT.consents[0], status: 'withdrawn' }] }
    const tampered = [
      header,
      toBase64Url(new TextEncoder().encode(JSON.stringify(forged))),
      signature,
    ].join('.')
    const jwks = createLocalJWKSet(await fetchJwks(deps))
    await expect(compactVerify(tampered, jwks)).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    )
    expect(await verifyStatement(deps, tampered)).toBeNull()
    expect(await verifyStatement(deps, 'not.a.jws')).toBeNull()
    expect(await verifyStatement(deps, '')).toBeNull()
  })

  it('verifyStatement refuses another statement type and a key it never held', async () => {
    const { deps } = await testDeps()
    const checkpoint = await signStatement(deps, CHECKPOINT_TYP, { headsDigest: 'ff00', chains: 2 })
    expect(decodeProtectedHeader(checkpoint).typ).toBe('ledger-checkpoint+jwt')
    expect(await verifyStatement(deps, checkpoint)).toEqual({ headsDigest: 'ff00', chains: 2 })
    expect(await verifyStatement(deps, checkpoint, RECEIPT_TYP)).toBeNull()

    const other = await testDeps() // another gateway, another key
    expect(await verifyStatement(deps, await signReceipt(other.deps, RECEIPT))).toBeNull()
    await expect(signStatement(deps, RECEIPT_TYP, [1, 2])).rejects.toThrow(/JSON object/)
  })

  it('after a rotation old receipts still verify via the JWKS, new ones use the new kid', async () => {
    const { deps, sqlite } = await testDeps()
    const before = await signReceipt(deps, RECEIPT)
    const oldKid = decodeProtectedHeader(before).kid
    const rotated = await rotateSigningKey(deps)
    const after = await signReceipt(deps, { ...RECEIPT, issuedAt: 'later' })

    expect(rotated.kid).not.toBe(oldKid)
    expect(decodeProtectedHeader(after).kid).toBe(rotated.kid)
    const published = await fetchJwks(deps)
    expect(published.keys.map((k) => k.kid)).toEqual([rotated.kid, oldKid])
    const jwks = createLocalJWKSet(published)
    expect((await jwtVerify(before, jwks)).payload).toEqual(RECEIPT)
    expect((await jwtVerify(after, jwks)).payload.issuedAt).toBe('later')
    expect(await verifyStatement(deps, before, RECEIPT_TYP)).toEqual(RECEIPT)

    const rows = keyRows(sqlite)
    expect(rows.filter((r) => r.retired_at === null).map((r) => r.kid)).toEqual([rotated.kid])
    expect(rows.find((r) => r.kid === oldKid)?.retired_at).toBe(deps.clock.now())
  })

  it('another process picks up a rotation within five minutes', async () => {
    const [a, b] = await sharedFile([[TEST_SECRET], [TEST_SECRET]])
    const first = await currentSigningKey(a!.deps)
    expect((await currentSigningKey(b!.deps)).kid).toBe(first.kid)
    const rotated = await rotateSigningKey(a!.deps)
    expect((await currentSigningKey(b!.deps)).kid).toBe(first.kid) // still cached: still verifies
    b!.clock.advance(5 * 60_000)
    expect((await currentSigningKey(b!.deps)).kid).toBe(rotated.kid)
  })
})

describe('the signing key', () => {
  it('two processes starting at once on a fresh database end up on one key', async () => {
    const [a, b] = await sharedFile([[TEST_SECRET], [TEST_SECRET]])
    const [ka, kb] = await Promise.all([currentSigningKey(a!.deps), currentSigningKey(b!.deps)])
    expect(ka.kid).toBe(kb.kid)
    expect(keyRows(a!.sqlite).map((r) => [r.kid, r.retired_at])).toEqual([[ka.kid, null]])
    // Both sign with that key: each verifies the other's receipt.
    expect(await verifyStatement(b!.deps, await signReceipt(a!.deps, RECEIPT))).toEqual(RECEIPT)
  })

  it('concurrent calls and concurrent rotations in one process agree too', async () => {
    const { deps, sqlite } = await testDeps()
    const keys = await Promise.all([1, 2, 3].map(() => currentSigningKey(deps)))
    expect(new Set(keys.map((k) => k.kid)).size).toBe(1)
    const rotated = await Promise.all([rotateSigningKey(deps), rotateSigningKey(deps)])
    expect(rotated[0].kid).toBe(rotated[1].kid)
    expect(keyRows(sqlite).filter((r) => r.retired_at === null)).toHaveLength(1)
  })

  it('is a JWK thumbprint kid, and the JWKS publishes public keys only', async () => {
    const { deps } = await testDeps()
    const res = await jwksApp(deps).request('/.well-known/jwks.json')
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    const { keys } = (await res.json()) as JSONWebKeySet
    expect(keys).toHaveLength(1) // created by the first request: never an empty set
    expect(Object.keys(keys[0]!).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(keys[0]!.kid).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(keys[0]!.kid).toBe((await currentSigningKey(deps)).kid)
  })

  it('goes through the whole app once mounted (middleware, HEAD, no cookies)', async () => {
    const { app, deps } = await testApp()
    app.route('/.well-known', wellKnownRoutes(deps)) // what src/app.ts will do
    const res = await app.request('/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBeTruthy()
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('set-cookie')).toBeNull()
    expect(((await res.json()) as JSONWebKeySet).keys).toHaveLength(1)
    expect((await app.request('/.well-known/jwks.json', { method: 'HEAD' })).status).toBe(200)
  })

  it('is stored encrypted: no private value in clear, unreadable under another APP_SECRET', async () => {
    const [a, stranger] = await sharedFile([
      [TEST_SECRET],
      ['another-secret-abcdefghijklmnopqrstuvwxyz'],
    ])
    const { kid } = await currentSigningKey(a!.deps)
    const [row] = keyRows(a!.sqlite)
    const jwk = JSON.parse(
      await decryptField(a!.deps.keys, row!.private_jwk_enc, `signing_keys:${kid}`),
    ) as { d: string }
    expect(jwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(row!.private_jwk_enc).not.toContain(jwk.d)
    expect(row!.public_jwk).not.toContain(jwk.d)
    expect(row!.public_jwk).not.toContain('"d"')

    await expect(
      decryptField(stranger!.deps.keys, row!.private_jwk_enc, `signing_keys:${kid}`),
    ).rejects.toThrow()
    await expect(currentSigningKey(stranger!.deps)).rejects.toThrow(/unknown key id/)
    // The ciphertext is bound to its row: moved under another kid, it does not decrypt.
    await expect(
      decryptField(a!.deps.keys, row!.private_jwk_enc, 'signing_keys:other'),
    ).rejects.toThrow()
  })

  it('is re-encrypted under the new APP_SECRET after a secret rotation', async () => {
    const next = 'rotated-secret-0123456789-abcdefghijklmnop'
    const [a, rotated] = await sharedFile([[TEST_SECRET], [next, TEST_SECRET]])
    const { kid } = await currentSigningKey(a!.deps)
    expect((await currentSigningKey(rotated!.deps)).kid).toBe(kid)
    const [row] = keyRows(a!.sqlite)
    expect(needsRekey(rotated!.deps.keys, row!.private_jwk_enc)).toBe(false)
  })
})
