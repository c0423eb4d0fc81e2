// Consent receipts and the JWKS inside workerd on D1: the same key store as on Node.
import { env, SELF } from 'cloudflare:test'
import { Hono } from 'hono'
import { compactVerify, createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet } from 'jose'
import { Kysely } from 'kysely'
import { beforeEach, describe, expect, it } from 'vitest'
import type { Database } from '../../src/db/database.ts'
import {
  currentSigningKey,
  RECEIPT_TYP,
  rotateSigningKey,
  signReceipt,
  verifyStatement,
} from '../../src/domain/consent/signing-keys.ts'
import { deriveKeys } from '../../src/lib/keys.ts'
import { wellKnownRoutes } from '../../src/routes/well-known.ts'
import { D1Dialect } from '../../src/runtime/worker/d1-dialect.ts'

const RECEIPT = { contact: 'c-1', consents: [{ purpose: 'newsletter', status: 'granted' }] }

/** One Worker isolate's view: its own Kysely handle (and so its own key cache) over the shared D1. */
async function isolateDeps() {
  const db = new Kysely<Database>({ dialect: new D1Dialect(env.DB) })
  return { db, keys: await deriveKeys(env.APP_SECRET), clock: { now: () => Date.now() } }
}

async function activeKids() {
  const rows = await env.DB.prepare('SELECT kid FROM signing_keys WHERE retired_at IS NULL').all<{
    kid: string
  }>()
  return rows.results.map((r) => r.kid)
}

describe('consent receipts on D1 (workerd)', () => {
  beforeEach(async () => {
    await env.DB.prepare('DELETE FROM signing_keys').run()
  })

  it('two isolates starting at once end up on one key', async () => {
    const [a, b] = await Promise.all([isolateDeps(), isolateDeps()])
    const [ka, kb] = await Promise.all([currentSigningKey(a), currentSigningKey(b)])
    expect(ka.kid).toBe(kb.kid)
    expect(await activeKids()).toEqual([ka.kid])
  })

  it('signs a receipt that verifies offline with the JWKS served by the route', async () => {
    const deps = await isolateDeps()
    const app = new Hono().route('/.well-known', wellKnownRoutes(deps))
    const res = await app.request('https://gateway.test/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json')
    expect(res.headers.get('cache-control')).toBe('public, max-age=300')
    const jwks = (await res.json()) as JSONWebKeySet
    expect(jwks.keys).toHaveLength(1)
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(jwks.keys[0]).not.toHaveProperty('d')

    const receipt = await signReceipt(deps, RECEIPT)
    expect(decodeProtectedHeader(receipt)).toEqual({
      alg: 'ES256',
      kid: jwks.keys[0]!.kid,
      typ: 'consent-receipt+jwt',
    })
    const { payload } = await compactVerify(receipt, createLocalJWKSet(jwks))
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(RECEIPT)
    expect(await verifyStatement(await isolateDeps(), receipt, RECEIPT_TYP)).toEqual(RECEIPT)
    expect(await verifyStatement(deps, receipt.replace(/\.[^.]+\./, '.e30.'))).toBeNull()
  })

  it('keeps verifying old receipts after a rotation', async () => {
    const deps = await isolateDeps()
    const before = await signReceipt(deps, RECEIPT)
    const rotated = await rotateSigningKey(deps)
    const after = await signReceipt(deps, RECEIPT)
    expect(decodeProtectedHeader(after).kid).toBe(rotated.kid)
    expect(decodeProtectedHeader(before).kid).not.toBe(rotated.kid)
    expect(await activeKids()).toEqual([rotated.kid])

    const app = new Hono().route('/.well-known', wellKnownRoutes(deps))
    const jwks = (await (await app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet
    expect(jwks.keys).toHaveLength(2)
    for (const jws of [before, after])
      expect((await compactVerify(jws, createLocalJWKSet(jwks))).protectedHeader.typ).toBe(
        RECEIPT_TYP,
      )
  })

  it('SELF.fetch serves /.well-known/jwks.json from the worker', async () => {
    const res = await SELF.fetch('https://gateway.test/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(((await res.json()) as JSONWebKeySet).keys.length).toBeGreaterThan(0)
  })
})
