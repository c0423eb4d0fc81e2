// The console's part-2 screens on the real app (Node, SQLite): every screen in French and English, the
// dashboard's plots (SVG with a title, a description and a table; an empty one saying so), contacts
// (search, what each role sees, withdraw, objection, erasure after a fresh second factor, receipt,
// proof page), requests (post request, identity check, the Art. 12(3) extension mailed, completion),
// purposes (draft, preview, word diff, publication, re-consent), forms and mappings, integration and
// API keys. Every action needs a reason and leaves an audit entry.
import { describe, expect, it } from 'vitest'
import type { Role } from '../../../../src/domain/admin/permissions.ts'
import { mirrorMode } from '../../../../src/domain/platform/settings.ts'
import { liveActivity, WEBHOOK_SECRET } from '../../../helpers/activity.ts'
import { browser, makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { confirmedSubscription } from '../../../helpers/consent.ts'
import { drainOutbox, testApp } from '../../../helpers/deps.ts'

async function rig(role: Role = 'owner') {
  const t = await testApp(
    { MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET },
    { pbkdf2Iterations: TEST_ITERATIONS },
  )
  const admin = await makeAdmin(t.deps, role)
  const b = await signIn(t.app, t.deps, admin)
  const csrf = await b.csrf()
  const html = async (path: string) => {
    const res = await b.get(path)
    return { status: res.status, text: await res.text(), location: res.headers.get('location') }
  }
  const post = async (path: string, form: Record<string, string>) => {
    const res = await b.post(path, { _csrf: csrf, ...form })
    return { status: res.status, text: await res.text(), location: res.headers.get('location') }
  }
  const audit = (action: string) =>
    t.sqlite
      .prepare(
        'SELECT actor, target, outcome, details FROM audit_log WHERE action = ? ORDER BY seq',
      )
      .all(action) as { actor: string; target: string; outcome: string; details: string }[]
  return { ...t, admin, b, csrf, html, post, audit }
}

const SCREENS = [
  ['/admin', 'Dashboard', 'Tableau de bord'],
  ['/admin/contacts', 'Contacts', 'Contacts'],
  ['/admin/requests', 'Data-subject requests', 'Demandes des personnes'],
  ['/admin/requests/new', 'Record a request', 'Enregistrer une demande'],
  ['/admin/purposes', 'Purposes', 'Finalités'],
  ['/admin/purposes/newsletter', 'Purpose: newsletter', 'Finalité : newsletter'],
  ['/admin/forms', 'Forms and mappings', 'Formulaires et correspondances'],
  ['/admin/integration', 'Integration', 'Intégration'],
  ['/admin/keys', 'API keys', 'Clés d’API'],
] as const

describe('every screen, in French and English', () => {
  it.each(['en', 'fr'] as const)(
    '%s: each screen answers 200 in its language, nothing left untranslated',
    async (lang) => {
      const t = await rig('owner')
      const id = await confirmedSubscription(t, 'anne@exemple.fr')
      const screens = [
        ...SCREENS,
        [`/admin/contacts/${id}`, 'Contact', 'Contact'],
        [`/admin/contacts/${id}/evidence`, 'Proof of consent', 'Preuve du consentement'],
      ] as const
      for (const [path, en, fr] of screens) {
        const page = await t.html(`${path}?lang=${lang}`)
        expect([path, page.status]).toEqual([path, 200])
        expect(page.text).toContain(`<html lang="${lang}">`)
        expect(page.text.replace(/\u00a0/g, ' ')).toContain(`<h1>${lang === 'en' ? en : fr}`)
        expect(page.text).not.toMatch(/\badmin\.[a-z]+\.[a-zA-Z.]+/)
        expect(page.text).not.toContain('<script')
      }
    },
  )

  it('the navigation shows each screen to the roles allowed it', async () => {
    const viewer = await rig('viewer')
    const nav = (await viewer.html('/admin?lang=en')).text
    expect(nav).toContain('href="/admin/forms"')
    expect(nav).toContain('href="/admin/integration"')
    expect(nav).not.toContain('href="/admin/keys"')
    expect(nav).not.toContain('href="/admin/requests"')
    const owner = (await (await rig('owner')).html('/admin?lang=en')).text
    for (const href of ['/admin/requests', '/admin/keys', '/admin/forms', '/admin/integration'])
      expect(owner).toContain(`href="${href}"`)
  })
})

describe('dashboard', () => {
  it('draws every plot as SVG with a title, a description and its numbers; an empty one says so', async () => {
    const t = await rig()
    const empty = (await t.html('/admin?lang=en')).text
    expect(empty.match(/<svg /g)!.length).toBe(5)
    expect(
      empty.match(/<title id="[a-z]+-st"|aria-labelledby="[a-z]+-title [a-z]+-desc"/g)!.length,
    ).toBe(5)
    expect(empty).toContain('>No data yet</text>')
    expect((await t.html('/admin?lang=fr')).text).toContain('>Pas encore de données</text>')

    await liveActivity(t, 2)
    const again = await signIn(t.app, t.deps, t.admin) // days went by: a new session
    const full = await (await again.get('/admin?lang=en')).text()
    expect(full).toMatch(/<path class="line s0" d="M[\d.]+ [\d.]+L/) // requested, per day
    expect(full).toMatch(/<path class="s0" d="M[\d.]+ [\d.]+V[\d.]+h/) // refused at the gate API
    expect(full).toMatch(/<th scope="row">2026-1[12]-\d\d<\/th><td>/) // the table, day by day
    expect(full).toMatch(/<td class="address">form:home<\/td><td>4<\/td><td>4<\/td><td>100 %<\/td>/)
    // One purpose only.
    const one = await (await again.get('/admin?lang=en&purpose=cookies')).text()
    expect(one).toContain('Consent events per day: cookies')
  })

  it('says when the counters are still being filled from older records', async () => {
    const t = await rig()
    t.sqlite
      .prepare(
        "UPDATE counter_backfill SET total = 10, done = 4, finished_at = NULL WHERE source = 'consent_events'",
      )
      .run()
    expect((await t.html('/admin?lang=en')).text).toContain('4 of 10 records so far')
  })
})

describe('contacts', () => {
  it('finds a contact by exact address, Mautic id or contact id; an unknown one is a 404 page', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'Anne.Martin@Exemple.fr')
    t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', '77', ?, 1)").run(id)
    for (const q of ['anne.martin@exemple.fr', ' ANNE.MARTIN@exemple.fr ', '77', 'mautic:77', id])
      expect((await t.html(`/admin/contacts?q=${encodeURIComponent(q)}`)).location).toBe(
        `/admin/contacts/${id}`,
      )
    const none = await t.html('/admin/contacts?q=anne.martin%40exemple.com&lang=en')
    expect(none.status).toBe(404)
    expect(none.text).toContain('No contact matches exactly.')
  })

  it('shows personal data (address, evidence) only to roles allowed it, and audits who saw it', async () => {
    const owner = await rig('owner')
    const id = await confirmedSubscription(owner, 'anne@exemple.fr')
    const page = (await owner.html(`/admin/contacts/${id}?lang=en`)).text
    expect(page).toContain('anne@exemple.fr')
    expect(page).toContain('192.0.2.9') // the confirming IP
    expect(page).toContain('Wording shown:')
    expect(owner.audit('contact.view')).toHaveLength(1)

    const viewer = browser(owner.app)
    const v = await makeAdmin(owner.deps, 'viewer')
    Object.assign(viewer, await signIn(owner.app, owner.deps, v))
    const seen = await (await signIn(owner.app, owner.deps, v)).get(`/admin/contacts/${id}?lang=en`)
    const text = await seen.text()
    expect(seen.status).toBe(200)
    expect(text).not.toContain('anne@exemple.fr')
    expect(text).not.toContain('192.0.2.9')
    expect(text).toContain('Your role shows no personal data')
    expect(text).not.toContain('/withdraw"')
    expect(text).not.toContain('/erase"')
  })

  it('withdraws a purpose with a reason, audited; without a reason nothing changes', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    const state = () =>
      (
        t.sqlite
          .prepare(
            "SELECT status FROM consent_state WHERE contact_id = ? AND purpose_key = 'newsletter'",
          )
          .get(id) as { status: string }
      ).status
    const refused = await t.post(`/admin/contacts/${id}/withdraw?lang=en`, {
      purpose: 'newsletter',
      reason: ' ',
    })
    expect(refused.status).toBe(400)
    expect(refused.text).toContain('Give a reason')
    expect(state()).toBe('granted')
    const done = await t.post(`/admin/contacts/${id}/withdraw`, {
      purpose: 'newsletter',
      reason: 'letter of 3 March',
    })
    expect(done.location).toBe(`/admin/contacts/${id}?done=withdrawn`)
    expect(state()).toBe('withdrawn')
    const [entry] = t.audit('contact.withdraw')
    expect(entry).toMatchObject({
      actor: `admin:${t.admin.id}`,
      target: `contact:${id}`,
      outcome: 'ok',
    })
    expect(JSON.parse(entry!.details)).toMatchObject({
      reason: 'letter of 3 March',
      purposes: ['newsletter'],
    })
    const gate = api(t.app, await apiKey(t.deps, ['gate']))
    expect((await gate.gate('newsletter', [{ contact_id: id }]))[0]).toEqual(
      expect.objectContaining({ allowed: false, reason: 'withdrawn' }),
    )
  })

  it('records an objection: every purpose withdrawn, the address suppressed, a completed request', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    await t.post(`/admin/contacts/${id}/object`, { reason: 'phone call, identity checked' })
    const states = t.sqlite
      .prepare('SELECT DISTINCT status FROM consent_state WHERE contact_id = ?')
      .all(id)
    expect(states).toEqual([{ status: 'withdrawn' }])
    expect(t.sqlite.prepare('SELECT reason FROM suppressions').all()).toEqual([
      { reason: 'objected' },
    ])
    expect(
      t.sqlite
        .prepare('SELECT kind, channel, completed_at IS NOT NULL AS done FROM dsr_requests')
        .all(),
    ).toEqual([{ kind: 'object', channel: 'admin', done: 1 }])
  })

  it('erases only after a fresh second factor and a confirmation, answering the request given', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    const recorded = await t.post('/admin/requests', {
      kind: 'erase',
      via: 'post',
      contact: 'anne@exemple.fr',
    })
    const requestId = /\/admin\/requests\/([\w-]+)/.exec(recorded.location!)![1]!
    t.clock.advance(6 * 60_000) // the sign-in's second factor is no longer fresh
    const stale = await t.post(`/admin/contacts/${id}/erase`, {
      reason: 'letter',
      confirm: 'yes',
      request: requestId,
    })
    expect(stale.status).toBe(303)
    expect(stale.location).toBe(
      `/admin/step-up?next=${encodeURIComponent(`/admin/contacts/${id}`)}`,
    )
    expect(t.audit('contact.erase')).toHaveLength(0)
    // A fresh code, then the form again.
    const { totpCode } = await import('../../../../src/domain/admin/totp.ts')
    t.clock.advance(30_000)
    await t.b.post('/admin/step-up', {
      _csrf: t.csrf,
      code: totpCode(t.admin.totpSecret!, t.clock.now()),
      next: `/admin/contacts/${id}`,
    })
    const unconfirmed = await t.post(`/admin/contacts/${id}/erase?lang=en`, { reason: 'letter' })
    expect(unconfirmed.status).toBe(400)
    const erased = await t.post(`/admin/contacts/${id}/erase`, {
      reason: 'letter',
      confirm: 'yes',
      request: requestId,
    })
    expect(erased.location).toBe(`/admin/contacts/${id}?done=erased`)
    expect(
      t.sqlite.prepare('SELECT status, email_enc FROM contacts WHERE id = ?').get(id) as object,
    ).toEqual({
      status: 'erased',
      email_enc: null,
    })
    const request = t.sqlite
      .prepare('SELECT completed_at, handled_by FROM dsr_requests WHERE id = ?')
      .get(requestId) as {
      completed_at: number
      handled_by: string
    }
    expect(request.handled_by).toBe(`admin:${t.admin.id}`)
    expect(t.audit('contact.erase')[0]!.details).toContain(requestId)
  })

  it('downloads the signed receipt and the data after a fresh second factor, with a reason; the proof page has every event', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    const res = await t.b.post(`/admin/contacts/${id}/receipt`, {
      _csrf: t.csrf,
      reason: 'authority asked',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toContain('attachment')
    const body = (await res.json()) as { proof: { history: unknown[] }; receipt: string }
    expect(body.receipt.split('.')).toHaveLength(3)
    expect(body.proof.history).toHaveLength(4)
    expect(JSON.parse(t.audit('contact.receipt')[0]!.details)).toEqual({
      reason: 'authority asked',
    })
    const exported = await t.b.post(`/admin/contacts/${id}/export`, {
      _csrf: t.csrf,
      reason: 'letter',
    })
    expect(await exported.text()).toContain('anne@exemple.fr')
    const proof = (await t.html(`/admin/contacts/${id}/evidence?lang=en`)).text
    expect(proof.match(/Event hash/g)).toHaveLength(4)
    expect(proof).toContain('/.well-known/jwks.json')
  })
})

describe('requests', () => {
  it('records a request by post, checks identity, extends it by two months (mailed with its reason), completes it', async () => {
    const t = await rig()
    const id = await confirmedSubscription(t, 'anne@exemple.fr')
    const received = new Date(t.clock.now() - 3 * 86_400_000).toISOString().slice(0, 10)
    const r = await t.post('/admin/requests', {
      kind: 'access',
      via: 'post',
      received,
      contact: 'anne@exemple.fr',
      identity: '',
      note: 'letter with a copy of the signature',
    })
    expect(r.status).toBe(303)
    const requestId = /\/admin\/requests\/([\w-]+)/.exec(r.location!)![1]!
    const queue = (await t.html('/admin/requests?lang=en')).text
    expect(queue).toContain(`/admin/requests/${requestId}`)
    const page = (await t.html(`/admin/requests/${requestId}?lang=en`)).text
    expect(page).toContain('letter with a copy of the signature')
    expect(page).toContain(`/admin/contacts/${id}`)

    await t.post(`/admin/requests/${requestId}/verify`, { reason: 'signature matches' })
    const extended = await t.post(`/admin/requests/${requestId}/extend`, {
      months: '2',
      reason: 'Your request covers ten years of records.',
    })
    expect(extended.location).toBe(`/admin/requests/${requestId}?done=mailed`)
    const row = t.sqlite
      .prepare('SELECT received_at, due_at, extension_months FROM dsr_requests WHERE id = ?')
      .get(requestId) as { received_at: number; due_at: number; extension_months: number }
    const due = new Date(row.received_at)
    due.setUTCMonth(due.getUTCMonth() + 3)
    expect(row).toMatchObject({ due_at: due.getTime(), extension_months: 2 })
    await drainOutbox(t.deps)
    const mail = t.mail.sent.at(-1)!
    expect(mail.to).toBe('anne@exemple.fr')
    expect(mail.text).toContain('Your request covers ten years of records.')
    expect(mail.subject).toContain('délai de réponse') // the contact's language, French
    const again = await t.post(`/admin/requests/${requestId}/extend?lang=en`, {
      months: '1',
      reason: 'more',
    })
    expect(again.status).toBe(400)
    expect(again.text).toContain('extended already')
    await t.post(`/admin/requests/${requestId}/complete`, {
      reason: 'data sent by post on 12 March',
    })
    const history = (await t.html(`/admin/requests/${requestId}?lang=en`)).text
    for (const step of [
      'received',
      'identity checked',
      'deadline extended',
      'person told by e-mail',
      'answered',
    ])
      expect(history).toContain(`<strong>${step}</strong>`)
    expect(t.audit('request.extend')).toHaveLength(1)
  })

  it('an extension comes within the first month, and a request without an address is not mailed', async () => {
    const t = await rig()
    const r = await t.post('/admin/requests', { kind: 'erase', via: 'phone' })
    const requestId = /\/admin\/requests\/([\w-]+)/.exec(r.location!)![1]!
    const unmailed = await t.post(`/admin/requests/${requestId}/extend`, {
      months: '1',
      reason: 'many requests',
    })
    expect(unmailed.location).toBe(`/admin/requests/${requestId}?done=extended`)
    const late = await t.post('/admin/requests', { kind: 'access', via: 'post' })
    const lateId = /\/admin\/requests\/([\w-]+)/.exec(late.location!)![1]!
    t.clock.advance(32 * 86_400_000)
    const b = await signIn(t.app, t.deps, t.admin) // a month went by: a new session
    const csrf = await b.csrf()
    const refused = await b.post(`/admin/requests/${lateId}/extend?lang=en`, {
      _csrf: csrf,
      months: '1',
      reason: 'late',
    })
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('within one month of receipt')
    expect(await (await b.get('/admin/requests?lang=en')).text()).toContain(
      'overdue: answer them first',
    )
  })
})

describe('purposes and notices', () => {
  it('drafts a new wording, previews it, shows what changed, publishes it as the next version', async () => {
    const t = await rig('marketer')
    const draft = await t.post('/admin/purposes/newsletter/draft', {
      locale: 'en',
      title: 'Our monthly newsletter',
      text: 'News about our products, once a month. Unsubscribe at any time.',
      privacy_url: 'https://example.com/privacy',
      requires_reconsent: 'yes',
      reason: 'new frequency',
    })
    expect(draft.location).toMatch(/done=draft/)
    const page = (await t.html('/admin/purposes/newsletter?lang=en')).text
    expect(page).toContain('Preview of the draft (version 2)')
    expect(page).toMatch(/<ins>[^<]*monthly/)
    expect(page).toContain('<del>')
    const published = await t.post('/admin/purposes/newsletter/publish', {
      locale: 'en',
      reason: 'approved by the DPO',
    })
    expect(published.location).toMatch(/done=published/)
    const rows = t.sqlite
      .prepare(
        "SELECT version, requires_reconsent, published_at IS NOT NULL AS p FROM notices WHERE purpose_key = 'newsletter' AND locale = 'en' ORDER BY version",
      )
      .all()
    expect(rows).toEqual([
      { version: 1, requires_reconsent: 0, p: 1 },
      { version: 2, requires_reconsent: 1, p: 1 },
    ])
    expect(() =>
      t.sqlite
        .prepare("UPDATE notices SET body = 'x' WHERE purpose_key = 'newsletter' AND version = 2")
        .run(),
    ).toThrow(/published notice cannot be changed/)
    expect(t.audit('notice.publish')).toHaveLength(1)
    expect((await t.html('/admin/purposes?lang=en')).text).toContain('en: v2')
  })

  it('adds a purpose; a role without purposes.manage sees no forms', async () => {
    const t = await rig('admin')
    const r = await t.post('/admin/purposes', {
      key: 'sms_offers',
      channel: 'sms',
      legal_basis: 'consent',
      double_opt_in: 'yes',
      max_consent_age_days: '730',
      reason: 'SMS campaign',
    })
    expect(r.location).toBe('/admin/purposes?done=added')
    expect(
      t.sqlite
        .prepare("SELECT channel, max_consent_age_days FROM purposes WHERE key = 'sms_offers'")
        .get(),
    ).toEqual({
      channel: 'sms',
      max_consent_age_days: 730,
    })
    const dpo = await rig('dpo')
    expect((await dpo.html('/admin/purposes?lang=en')).text).not.toContain(
      'action="/admin/purposes"',
    )
  })
})

describe('forms and mappings', () => {
  it('creates a hosted form with its link, and maps a Mautic form field under a published version', async () => {
    const t = await rig()
    await t.post('/admin/forms', { key: 'shop', purposes: 'newsletter', reason: 'new shop page' })
    const page = (await t.html('/admin/forms?lang=en')).text
    expect(page).toContain(
      '&lt;a href&#x3D;&quot;http://gateway.test/subscribe/shop?lang&#x3D;en&quot;',
    )
    expect((await t.b.get('/subscribe/shop?lang=en')).status).toBe(200)
    const wrong = await t.post('/admin/forms/mautic-field', {
      form_id: '3',
      field: 'newsletter',
      purpose: 'newsletter',
      locale: 'fr',
      version: '9',
      reason: 'form 3',
    })
    expect(wrong.status).toBe(400)
    expect(wrong.text).toContain('published versions: 1')
    await t.post('/admin/forms/mautic-field', {
      form_id: '3',
      field: 'newsletter',
      purpose: 'newsletter',
      locale: 'fr',
      version: '1',
      reason: 'form 3',
    })
    expect((await t.html('/admin/forms?lang=en')).text).toContain('<td>v1 (fr)</td>')
  })
})

describe('integration and keys', () => {
  it('switches the mirror to enforce with a reason, and lists the outbox by status; a dead letter is retried', async () => {
    const t = await rig()
    const refused = await t.post('/admin/integration/mautic/mode?lang=en', {
      mode: 'enforce',
      reason: '',
    })
    expect(refused.status).toBe(400)
    await t.post('/admin/integration/mautic/mode', {
      mode: 'enforce',
      reason: 'report looked right',
    })
    expect(await mirrorMode(t.deps)).toBe('enforce')
    t.sqlite
      .prepare(
        "INSERT INTO outbox (id, kind, payload, status, attempts, next_attempt_at, last_error, created_at) VALUES ('0190dead', 'mautic.mirror', '{}', 'dead', 25, 0, 'Mautic answered 500', 1)",
      )
      .run()
    const dead = (await t.html('/admin/integration?outbox=dead&lang=en')).text
    expect(dead).toContain('Mautic answered 500')
    await t.post('/admin/integration/outbox/0190dead/retry', { reason: 'Mautic is back' })
    expect(t.sqlite.prepare("SELECT status FROM outbox WHERE id = '0190dead'").get()).toEqual({
      status: 'pending',
    })
    expect(t.audit('outbox.retry')).toHaveLength(1)
  })

  it('sends a test mail through the configured transport', async () => {
    const t = await rig()
    const r = await t.post('/admin/integration/mail-test?lang=en', {
      to: 'ops@exemple.fr',
      reason: 'checking SMTP',
    })
    expect(r.text).toContain('Sent through memory')
    expect(t.mail.sent.at(-1)!.to).toBe('ops@exemple.fr')
  })

  it('creates an API key (shown once), then revokes it', async () => {
    const t = await rig('admin')
    const created = await t.b.post('/admin/keys?lang=en', {
      _csrf: t.csrf,
      name: 'website',
      scopes: 'gate',
      reason: 'new site',
    })
    const text = await created.text()
    const key = /<code class="secret">([^<]+)<\/code>/.exec(text)![1]!
    expect((await t.html('/admin/keys')).text).not.toContain(key)
    const gate = api(t.app, key)
    expect(
      (
        await gate.post('/api/v1/gate', {
          purpose: 'newsletter',
          contacts: [{ email: 'x@exemple.fr' }],
        })
      ).status,
    ).toBe(200)
    const id = /action="\/admin\/keys\/([^/]+)\/revoke"/.exec(
      (await t.html('/admin/keys')).text,
    )![1]!
    await t.post(`/admin/keys/${id}/revoke`, { reason: 'site closed' })
    expect(t.audit('apikey.revoke')).toHaveLength(1)
    // An admin (not an owner) cannot make a key with the admin scope.
    const admin = await t.b.post('/admin/keys', {
      _csrf: t.csrf,
      name: 'x',
      scopes: 'admin',
      reason: 'x',
    })
    expect(admin.status).toBe(403)
  })
})
