// The consent ledger on Workers/D1: the same journey and the same tamper checks as on Node.
import { env, SELF } from 'cloudflare:test'
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { maybeCheckpoint, verifyLedger } from '../../src/domain/consent/checkpoints.ts'
import { decryptField } from '../../src/lib/keys.ts'
import { mailLogAad } from '../../src/runtime/worker/mail.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'

const BASE = 'https://gateway.test'

async function waitFor<T>(probe: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  for (
    const start = Date.now();
    Date.now() - start < ms;
    await new Promise((r) => setTimeout(r, 20))
  ) {
    const value = await probe()
    if (value !== undefined) return value
  }
  throw new Error('timed out')
}

async function setup() {
  const { deps } = await forEnv(env)
  const created = await createApiKey(deps, {
    name: 'worker-test',
    scopes: ['subscribe', 'gate', 'consents:read'],
  })
  if (!created.ok) throw new Error(created.error)
  const call = async (path: string, body?: unknown) => {
    const res = await SELF.fetch(`${BASE}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as Record<string, any> }
  }
  return { deps, call }
}

describe('consent ledger on D1', () => {
  it('subscribe → confirmation mail (D1 log, encrypted) → GET shows → POST confirms → gate allows → receipt verifies', async () => {
    const { deps, call } = await setup()
    const email = 'worker.anne@exemple.fr'
    const sub = await call('/api/v1/subscriptions', {
      email,
      purposes: ['newsletter'],
      locale: 'en',
      evidence: { ip: '203.0.113.9' },
    })
    expect(sub.status).toBe(202)
    expect(sub.body.purposes).toEqual({ newsletter: 'pending' })

    // The request itself started delivery with ctx.waitUntil, right after its commit.
    const row = await waitFor(() => deps.db.selectFrom('mail_log').selectAll().executeTakeFirst())
    expect(JSON.stringify(row)).not.toContain('worker.anne')
    const message = JSON.parse(
      await decryptField(deps.keys, row.message, mailLogAad(row.id, 'message')),
    ) as { text: string; to: string }
    expect(message.to).toBe(email)
    const confirmUrl = message.text.match(/https:\/\/gateway\.test\/c\/\S+/)![0]

    const gate = async () =>
      (await call('/api/v1/gate', { purpose: 'newsletter', contacts: [{ email }] })).body.results[0]
    expect(await gate()).toMatchObject({ allowed: false, reason: 'pending_confirmation' })
    const page = await SELF.fetch(confirmUrl)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Confirm your subscription')
    expect(await gate()).toMatchObject({ allowed: false, reason: 'pending_confirmation' })
    const confirmed = await SELF.fetch(confirmUrl, {
      method: 'POST',
      headers: { 'CF-Connecting-IP': '203.0.113.10' },
    })
    expect(confirmed.status).toBe(200)
    expect(await gate()).toEqual({ email, allowed: true, reason: null })

    const proof = await call(`/api/v1/contacts/${encodeURIComponent(email)}/consents`)
    expect(proof.body.history.map((h: { action: string }) => h.action)).toEqual([
      'requested',
      'confirmed',
    ])
    expect(proof.body.history[1].evidence).toMatchObject({ ip: '203.0.113.10' })
    const jwks = (await (await SELF.fetch(`${BASE}/.well-known/jwks.json`)).json()) as JSONWebKeySet
    const { payload } = await compactVerify(proof.body.receipt, createLocalJWKSet(jwks))
    expect(JSON.parse(new TextDecoder().decode(payload)).contact_id).toBe(sub.body.contact_id)
  })

  it('detects tampering and a deleted chain', async () => {
    const { deps, call } = await setup()
    await call('/api/v1/subscriptions', {
      email: 'w1@exemple.fr',
      purposes: ['cookies', 'geolocation'],
    })
    const other = await call('/api/v1/subscriptions', {
      email: 'w2@exemple.fr',
      purposes: ['cookies'],
    })
    expect((await verifyLedger(deps)).ok).toBe(true)
    const later = { ...deps, clock: { now: () => Date.now() + 5 * 60_000 } }
    expect(await maybeCheckpoint(later, true)).toBe(true)

    await env.DB.exec('DROP TRIGGER consent_events_no_update')
    await env.DB.exec('DROP TRIGGER consent_events_no_delete')
    await env.DB.prepare('DELETE FROM consent_events WHERE contact_id = ?')
      .bind(other.body.contact_id)
      .run()
    const report = await verifyLedger(deps)
    expect(report.ok).toBe(false)
    expect(report.problems.join('\n')).toContain('chain(s) missing')
  })
})
