// Erasure (GDPR Art. 17): one atomic unit that closes every purpose in the ledger, destroys the contact's
// key (the chains still verify, the evidence no longer reads), keeps the address only as keyed hashes
// on the suppression list, and deletes the Mautic contacts through the outbox. Only a new subscription
// confirmed by double opt-in lifts the suppression.
import { describe, expect, it } from 'vitest'
import { maybeCheckpoint, verifyLedger } from '../../../../src/domain/consent/checkpoints.ts'
import { eraseContact, type ErasureHow } from '../../../../src/domain/rights/erasure.ts'
import { confirmOptin } from '../../../../src/domain/consent/optin.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { consentProof } from '../../../../src/domain/consent/proof.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { apiKey, api } from '../../../helpers/api.ts'
import { API_CONSENT, TEST_SECRET, testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'
const SELF: ErasureHow = {
  suppress: 'erased',
  method: 'erasure_request',
  source: 'test',
  actor: 'contact',
  deleteInMautic: true,
  passOnToRecipients: true,
}

async function setup(env: Record<string, string> = {}) {
  const t = await testApp({ ORG_NAME: 'ACME', ...env })
  const key = await apiKey(t.deps, ['subscribe', 'gate', 'consents:read'])
  const client = api(t.app, key)
  /** Subscribes and confirms through the mailed link; returns the contact id. */
  const confirmed = async (email: string, purposes = ['newsletter', 'cookies']) => {
    const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes })
    if (!r.ok) throw new Error(r.message)
    await deliverOutbox(t.deps)
    const token = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)!.text)![1]!
    expect((await confirmOptin(t.deps, token, { ip: '198.51.100.7' })).status).toBe('confirmed')
    return r.contactId
  }
  const all = (sql: string, ...params: unknown[]) =>
    t.sqlite.prepare(sql).all(...params) as Record<string, any>[]
  const gate = async (purpose: string, email: string) =>
    (await client.gate(purpose, [{ email }]))[0]!
  return { ...t, client, confirmed, all, gate }
}

describe('eraseContact', () => {
  it('empties the contact, closes every purpose in the ledger, and suppresses the address', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    // A pending request too: erasure expires it.
    await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['email_marketing'],
    })
    t.clock.advance(60_000)
    const result = await eraseContact(t.deps, id, SELF)
    expect(result).toEqual({
      ok: true,
      status: 'erased',
      purposes: expect.arrayContaining(['newsletter', 'cookies', 'email_marketing']),
      mauticIds: [],
    })

    expect(t.all('SELECT * FROM contacts')).toEqual([
      expect.objectContaining({
        id,
        email_enc: null,
        email_bidx: null,
        bidx_kid: null,
        attributes_enc: null,
        data_key_enc: null,
        status: 'erased',
        erased_at: t.clock.now(),
      }),
    ])
    const erased = t.all(
      "SELECT purpose_key FROM consent_events WHERE action = 'erased' ORDER BY seq",
    )
    expect(erased.map((e) => e.purpose_key).sort()).toEqual([
      'cookies',
      'email_marketing',
      'newsletter',
    ])
    expect(t.all('SELECT DISTINCT status FROM consent_state')).toEqual([{ status: 'withdrawn' }])
    expect(t.all('SELECT status FROM optin_requests ORDER BY created_at')).toEqual([
      { status: 'confirmed' },
      { status: 'expired' },
    ])
    expect(t.all('SELECT reason, bidx_kid FROM suppressions')).toEqual([
      { reason: 'erased', bidx_kid: t.deps.keys.current.kid },
    ])
    // The address is nowhere in clear.
    for (const table of ['contacts', 'consent_events', 'suppressions', 'consent_state'])
      expect(JSON.stringify(t.all(`SELECT * FROM ${table}`))).not.toContain('anne')
  })

  it('keeps the ledger verifiable while its evidence becomes unreadable', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    const before = (await consentProof(t.deps, id))!.proof.history as any[]
    expect(before.map((e) => e.evidence?.ip)).toContain('198.51.100.7')
    t.clock.advance(2 * 60_000)
    expect(await maybeCheckpoint(t.deps, true)).toBe(true)
    t.clock.advance(60_000)

    await eraseContact(t.deps, id, SELF)
    const report = await verifyLedger(t.deps)
    expect(report).toMatchObject({ ok: true, problems: [], checkpoints: 1 })
    const after = (await consentProof(t.deps, id))!.proof.history as any[]
    expect(after).toHaveLength(before.length + 2)
    // The sealed evidence is still there (the hashes cover it) but nobody can open it any more.
    expect(
      t.all('SELECT count(*) AS n FROM consent_events WHERE evidence_enc IS NOT NULL')[0]!.n,
    ).toBe(before.length)
    for (const e of after.slice(0, before.length)) {
      expect(e.evidence).toBeNull()
      expect(e.evidence_erased).toBe(true)
    }
  })

  it('deletes the Mautic contacts through the outbox and forgets the links', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    for (const mauticId of ['42', '43'])
      t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', ?, ?, 0)").run(mauticId, id)
    // An undelivered webhook event about the person: it holds their data, and goes with them.
    t.sqlite
      .prepare(
        "INSERT INTO outbox (id, kind, ordering_key, payload, status, attempts, next_attempt_at, created_at) VALUES ('e1', 'mautic.event', 'mautic:42', '{\"event\":\"sealed\"}', 'dead', 25, 0, 0)",
      )
      .run()
    const result = await eraseContact(t.deps, id, SELF)
    expect(t.all("SELECT id FROM outbox WHERE kind = 'mautic.event'")).toEqual([])
    expect(result).toMatchObject({ mauticIds: ['42', '43'] })
    expect(
      t.all("SELECT payload, ordering_key FROM outbox WHERE kind = 'mautic.delete' ORDER BY id"),
    ).toEqual([
      { payload: '{"mauticId":"42"}', ordering_key: 'mautic:42' },
      { payload: '{"mauticId":"43"}', ordering_key: 'mautic:43' },
    ])
    expect(t.all('SELECT * FROM contact_links')).toEqual([])
  })

  it('for a retention clean-up: no suppression and no Mautic deletion when asked', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', '42', ?, 0)").run(id)
    await eraseContact(t.deps, id, {
      ...SELF,
      suppress: null,
      deleteInMautic: false,
      method: 'retention',
    })
    expect(t.all('SELECT * FROM suppressions')).toEqual([])
    expect(t.all("SELECT * FROM outbox WHERE kind = 'mautic.delete'")).toEqual([])
    expect(t.all('SELECT * FROM contact_links')).toEqual([])
    expect(t.all('SELECT status FROM contacts')).toEqual([{ status: 'erased' }])
  })

  it('changes nothing the second time, and answers unknown contacts', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    await eraseContact(t.deps, id, SELF)
    const events = t.all('SELECT count(*) AS n FROM consent_events')[0]!.n
    expect(await eraseContact(t.deps, id, SELF)).toEqual({ ok: true, status: 'already_erased' })
    expect(t.all('SELECT count(*) AS n FROM consent_events')[0]!.n).toBe(events)
    expect(await eraseContact(t.deps, crypto.randomUUID(), SELF)).toEqual({
      ok: false,
      code: 'unknown_contact',
    })
  })

  it('suppresses the blind index under every key in use during a rotation', async () => {
    const t = await setup({ APP_SECRET: `${TEST_SECRET}-new`, APP_SECRET_PREVIOUS: TEST_SECRET })
    const id = await t.confirmed('anne@exemple.fr')
    await eraseContact(t.deps, id, SELF)
    expect(
      t
        .all('SELECT bidx_kid FROM suppressions ORDER BY bidx_kid')
        .map((r) => r.bidx_kid)
        .sort(),
    ).toEqual([t.deps.keys.current.kid, t.deps.keys.previous!.kid].sort())
  })
})

describe('an erased address', () => {
  it('is refused by the gate, stays blocked on re-subscription until confirmed by double opt-in', async () => {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    expect(await t.gate('newsletter', 'anne@exemple.fr')).toMatchObject({ allowed: true })
    await eraseContact(t.deps, id, SELF)
    expect(await t.gate('newsletter', 'Anne@Exemple.fr')).toMatchObject({
      allowed: false,
      reason: 'suppressed',
    })
    expect(await t.gate('newsletter', 'anne@exemple.fr')).not.toMatchObject({
      reason: 'unknown_contact',
    })

    // Imported again (API) with a purpose that normally needs no confirmation: it waits for one.
    t.mail.sent.length = 0
    const again = await t.client.post('/api/v1/subscriptions', {
      email: 'anne@exemple.fr',
      purposes: ['newsletter', 'push_notifications'],
      locale: 'fr',
    })
    expect(again.status).toBe(202)
    expect(again.body.purposes).toEqual({ newsletter: 'pending', push_notifications: 'pending' })
    expect(await t.gate('newsletter', 'anne@exemple.fr')).toMatchObject({ reason: 'suppressed' })
    expect(await t.gate('push_notifications', 'anne@exemple.fr')).toMatchObject({
      reason: 'suppressed',
    })

    // The one mail allowed: the confirmation. Confirming lifts the suppression.
    await deliverOutbox(t.deps)
    expect(t.mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr'])
    const token = /\/c\/([\w.-]+)/.exec(t.mail.sent[0]!.text)![1]!
    await confirmOptin(t.deps, token, { ip: '203.0.113.5' })
    expect(t.all('SELECT * FROM suppressions')).toEqual([])
    expect(await t.gate('newsletter', 'anne@exemple.fr')).toMatchObject({ allowed: true })
    expect(await t.gate('push_notifications', 'anne@exemple.fr')).toMatchObject({ allowed: true })
    // A fresh contact: the erased one stays erased.
    expect(t.all("SELECT id FROM contacts WHERE status = 'active'")).not.toContainEqual({ id })
  })
})

describe('the erase pages', () => {
  async function withLink() {
    const t = await setup()
    const id = await t.confirmed('anne@exemple.fr')
    await t.app.request('/privacy', {
      method: 'POST',
      body: 'email=anne%40exemple.fr',
      headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
    })
    await deliverOutbox(t.deps)
    const link = /\/me\/[\w.-]+/.exec(t.mail.sent.at(-1)!.text)![0]
    const erase = (body: string, origin = ORIGIN) =>
      t.app.request(`${link}/erase`, {
        method: 'POST',
        body,
        headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      })
    return { ...t, id, link, erase }
  }

  it('asks for an explicit confirmation before erasing', async () => {
    const t = await withLink()
    const page = await (await t.app.request(`${t.link}/erase?lang=en`)).text()
    expect(page).toContain('This cannot be undone.')
    expect(page).toMatch(/<input type="checkbox" id="confirm" name="confirm" value="yes" required>/)
    expect(page).toContain(
      '<label for="confirm">I understand that erasure cannot be undone.</label>',
    )

    const unconfirmed = await t.erase('lang=en')
    expect(unconfirmed.status).toBe(400)
    expect(await unconfirmed.text()).toContain('Tick the box to confirm the erasure.')
    expect((await t.erase('confirm=yes', 'https://evil.example')).status).toBe(403)
    expect(t.all('SELECT status FROM contacts')).toEqual([{ status: 'active' }])
  })

  it('erases on confirmation, records the request, and the link then opens nothing', async () => {
    const t = await withLink()
    const res = await t.erase('confirm=yes&lang=en')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/privacy/erased?lang=en')
    expect(await (await t.app.request(res.headers.get('location')!)).text()).toContain(
      'Your data has been erased',
    )
    expect(t.all('SELECT status FROM contacts')).toEqual([{ status: 'erased' }])
    expect(
      t.all(
        "SELECT contact_id, channel, completed_at, due_at FROM dsr_requests WHERE kind = 'erase'",
      ),
    ).toEqual([
      {
        contact_id: t.id,
        channel: 'self_service',
        completed_at: t.clock.now(),
        due_at: Date.UTC(2026, 11, 29, 9, 0, 0),
      },
    ])
    // Reused after erasure, and a double submission: a clear page, nothing more recorded.
    const reused = await t.app.request(`${t.link}?lang=en`)
    expect(reused.status).toBe(410)
    expect(await reused.text()).toContain('/privacy?lang')
    expect((await t.erase('confirm=yes')).status).toBe(410)
    expect(t.all("SELECT count(*) AS n FROM dsr_requests WHERE kind = 'erase'")).toEqual([{ n: 1 }])
  })
})
