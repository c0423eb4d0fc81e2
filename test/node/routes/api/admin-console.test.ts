// The console's part-2 operations in the admin API (/api/v1/admin): the same domain as the screens,
// with an admin API key or a session held to its role; a reason on every change (400 without), an
// audit entry for each, and a fresh second factor for erasures and exports in a session.
import { describe, expect, it } from 'vitest'
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { liveActivity, WEBHOOK_SECRET } from '../../../helpers/activity.ts'
import { makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { apiKey } from '../../../helpers/api.ts'
import { confirmedSubscription } from '../../../helpers/consent.ts'
import { drainOutbox, testApp } from '../../../helpers/deps.ts'

async function rig() {
  const t = await testApp(
    { MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET },
    { pbkdf2Iterations: TEST_ITERATIONS },
  )
  const key = await apiKey(t.deps, ['admin'])
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await t.app.request(`http://gateway.test/api/v1/admin${path}`, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  return { ...t, call }
}

describe('admin API: the console part 2', () => {
  it('gives the dashboard figures from the counters', async () => {
    const t = await rig()
    await liveActivity(t, 2)
    const { status, body } = await t.call('GET', '/dashboard')
    expect(status).toBe(200)
    expect(body.days).toHaveLength(90)
    expect(body.optin.length).toBeGreaterThan(0)
    expect(body.refusedByReason.map((r: { place: string }) => r.place).sort()).toEqual(
      expect.arrayContaining(['gate_api', 'send_api']),
    )
    expect(body.mautic_webhook.state).toMatch(/^(ok|stale)$/)
  })

  it('finds and shows a contact, withdraws with a reason (400 without), audits it', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    expect((await t.call('GET', '/contacts?q=anne%40exemple.fr')).body).toEqual({
      id,
      status: 'active',
    })
    expect((await t.call('GET', '/contacts?q=nobody%40exemple.fr')).status).toBe(404)
    const view = (await t.call('GET', `/contacts/${id}`)).body
    expect(view.email).toBe('anne@exemple.fr')
    expect(view.events[0].evidence.ip).toBe('192.0.2.9')
    const none = await t.call('POST', `/contacts/${id}/withdraw`, { purposes: ['newsletter'] })
    expect(none.status).toBe(400)
    expect(none.body.error.code).toBe('missing_reason')
    const done = await t.call('POST', `/contacts/${id}/withdraw`, {
      purposes: ['newsletter'],
      reason: 'letter',
    })
    expect(done.body).toEqual({ ok: true, changed: ['newsletter'], request_id: null })
    const audit = t.sqlite
      .prepare("SELECT actor, details FROM audit_log WHERE action = 'contact.withdraw'")
      .get() as { actor: string; details: string }
    expect(audit.actor).toMatch(/^api:/)
    expect(JSON.parse(audit.details).reason).toBe('letter')
  })

  it('returns a receipt anyone can verify, and erases; a session needs a fresh second factor for both', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    const receipt = await t.call('POST', `/contacts/${id}/receipt`, { reason: 'authority' })
    const jwks = (await (await t.app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet
    const { payload } = await compactVerify(receipt.body.receipt, createLocalJWKSet(jwks))
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual(receipt.body.proof)

    const dpo = await makeAdmin(t.deps, 'dpo')
    const b = await signIn(t.app, t.deps, dpo)
    const csrf = await b.csrf()
    t.clock.advance(6 * 60_000)
    const session = (path: string, body: unknown) =>
      t.app.request(`http://gateway.test/api/v1/admin${path}`, {
        method: 'POST',
        headers: {
          Cookie: b.cookie,
          Origin: 'http://gateway.test',
          'X-CSRF-Token': csrf,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(body),
      })
    for (const path of [`/contacts/${id}/erase`, `/contacts/${id}/receipt`]) {
      const res = await session(path, { reason: 'letter' })
      expect(res.status).toBe(403)
      expect(((await res.json()) as any).error.code).toBe('step_up_required')
    }
    const erased = await t.call('POST', `/contacts/${id}/erase`, { reason: 'letter of 3 March' })
    expect(erased.body.ok).toBe(true)
    expect((await t.call('GET', `/contacts/${id}`)).body.status).toBe('erased')
  })

  it('records a request, extends it once (mailed), completes it', async () => {
    const t = await rig()
    await confirmedSubscription(t, 'anne@exemple.fr')
    const r = await t.call('POST', '/requests', {
      kind: 'export',
      via: 'email',
      contact: 'anne@exemple.fr',
      identity: 'replied from the address on file',
    })
    expect(r.status).toBe(201)
    const ext = await t.call('POST', `/requests/${r.body.id}/extend`, {
      months: 1,
      reason: 'many requests this month',
    })
    expect(ext.body).toEqual({ ok: true, id: r.body.id, mailed: true })
    expect(
      (await t.call('POST', `/requests/${r.body.id}/extend`, { months: 2, reason: 'x' })).body.error
        .code,
    ).toBe('already_extended')
    await drainOutbox(t.deps)
    expect(t.mail.sent.at(-1)!.text).toContain('many requests this month')
    await t.call('POST', `/requests/${r.body.id}/complete`, { reason: 'export mailed' })
    const details = (await t.call('GET', `/requests/${r.body.id}`)).body
    expect(details.history.map((h: { step: string }) => h.step)).toEqual([
      'received',
      'verified',
      'extended',
      'mailed',
      'completed',
    ])
    expect(details.completedAt).not.toBeNull()
    expect((await t.call('GET', '/requests')).body.completed[0].id).toBe(r.body.id)
  })

  it('drafts and publishes a notice version, saves a form, switches the mirror mode', async () => {
    const t = await rig()
    const draft = await t.call('POST', '/purposes/newsletter/drafts', {
      locale: 'fr',
      title: 'Lettre mensuelle',
      text: 'Nos nouvelles, une fois par mois.',
      reason: 'nouvelle fréquence',
    })
    expect(draft.body).toMatchObject({ ok: true, version: 2 })
    const detail = (await t.call('GET', '/purposes/newsletter')).body
    expect(detail.locales[0].diff.text.some((p: { op: string }) => p.op === 'added')).toBe(true)
    expect(
      (await t.call('POST', '/purposes/newsletter/publish', { locale: 'fr', reason: 'ok' })).body,
    ).toMatchObject({
      ok: true,
      version: 2,
    })
    expect(
      (await t.call('POST', '/forms', { key: 'shop', purposes: ['newsletter'], reason: 'shop' }))
        .body,
    ).toEqual({
      ok: true,
    })
    const forms = (await t.call('GET', '/forms')).body.forms as {
      key: string
      purposes: { versions: { fr: number } }[]
    }[]
    expect(forms.find((f) => f.key === 'shop')!.purposes[0]!.versions.fr).toBe(2)
    const mode = await t.call('POST', '/mautic/mirror-mode', {
      mode: 'enforce',
      reason: 'report ok',
    })
    expect(mode.body).toMatchObject({ ok: true, mode: 'enforce' })
    expect((await t.call('GET', '/mautic/status')).body.mirror.mode).toBe('enforce')
  })
})
