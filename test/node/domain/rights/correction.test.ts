// Correction (GDPR Art. 16) from /me/{token}/correct: stored encrypted, passed on to Mautic through
// the outbox (Art. 19), and a new e-mail address changed only once its owner confirms it.
import { describe, expect, it } from 'vitest'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { findContactByRef } from '../../../../src/domain/consent/proof.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'
const decode = (html: string) =>
  html
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')

async function setup() {
  const t = await testApp({ ORG_NAME: 'ACME' })
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['cookies'],
    attributes: { first_name: 'Ane', last_name: 'Dupont' },
  })
  if (!r.ok) throw new Error(r.message)
  await t.app.request('/privacy', {
    method: 'POST',
    body: 'email=anne%40exemple.fr',
    headers: { Origin: ORIGIN, 'Content-Type': 'application/x-www-form-urlencoded' },
  })
  await deliverOutbox(t.deps)
  const link = /\/me\/[\w.-]+/.exec(t.mail.sent.at(-1)!.text)![0]
  t.mail.sent.length = 0
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
  const post = (path: string, body: string, origin = ORIGIN) =>
    t.app.request(path, {
      method: 'POST',
      body,
      headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    })
  const correct = (fields: Record<string, string>, origin = ORIGIN) =>
    post(`${link}/correct`, form({ locale: 'fr', email: 'anne@exemple.fr', ...fields }), origin)
  const row = () =>
    t.sqlite.prepare('SELECT * FROM contacts WHERE id = ?').get(r.contactId) as Record<
      string,
      string | number | null
    >
  const outbox = (kind: string) =>
    t.sqlite.prepare('SELECT * FROM outbox WHERE kind = ?').all(kind) as {
      payload: string
      ordering_key: string | null
    }[]
  const exported = async () =>
    (await (await t.app.request(`${link}/export.json`)).json()) as {
      profile: { email: string; locale: string; attributes: Record<string, string> }
    }
  return { ...t, contactId: r.contactId, link, post, correct, row, outbox, exported }
}

describe('correcting attributes and language', () => {
  it('shows a labelled form with the current values', async () => {
    const t = await setup()
    const html = decode(await (await t.app.request(`${t.link}/correct?lang=en`)).text())
    expect(html).toMatch(/<label for="f-first_name">First name<\/label>/)
    expect(html).toContain('name="attr_first_name" value="Ane"')
    expect(html).toContain('name="attr_last_name" value="Dupont"')
    expect(html).toMatch(/<label for="f-locale">Language of our messages<\/label>/)
    expect(html).toContain('<option value="fr" selected>French</option>')
    expect(html).toContain('name="email" value="anne@exemple.fr"')
  })

  it('saves them encrypted, records a completed request, and leaves Mautic alone without a link', async () => {
    const t = await setup()
    const res = await t.correct({ attr_first_name: 'Anne', attr_last_name: '', locale: 'en' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`${t.link}?done=corrected&lang=en`)
    const row = t.row()
    expect(row.locale).toBe('en')
    expect(String(row.attributes_enc)).not.toContain('Anne')
    expect(String(row.attributes_enc)).toMatch(/^k[0-9a-f]{8}\./) // ciphertext under a key id
    expect((await t.exported()).profile.attributes).toEqual({ first_name: 'Anne' })
    const dsr = t.sqlite.prepare("SELECT * FROM dsr_requests WHERE kind = 'rectify'").get() as any
    expect(dsr).toMatchObject({ completed_at: t.clock.now(), handled_by: 'self_service' })
    expect(JSON.parse(dsr.details)).toEqual({ fields: ['first_name', 'last_name', 'locale'] })
    expect(t.outbox('mautic.update')).toEqual([])
    const page = await (await t.app.request(res.headers.get('location')!)).text()
    expect(page).toContain('Your corrections are saved.')
  })

  it('queues a mautic.update for a contact linked to Mautic (Art. 19)', async () => {
    const t = await setup()
    t.sqlite.prepare("INSERT INTO contact_links VALUES ('mautic', '42', ?, 0)").run(t.contactId)
    await t.correct({ attr_first_name: 'Anne', attr_last_name: 'Dupont' })
    expect(t.outbox('mautic.update')).toEqual([
      expect.objectContaining({
        payload: JSON.stringify({ contactId: t.contactId }),
        ordering_key: `mautic:${t.contactId}`,
      }),
    ])
  })

  it('records nothing when the same form is sent twice', async () => {
    const t = await setup()
    await t.correct({ attr_first_name: 'Anne', attr_last_name: 'Dupont' })
    const again = await t.correct({ attr_first_name: 'Anne', attr_last_name: 'Dupont' })
    expect(again.headers.get('location')).toContain('done=unchanged')
    expect(
      t.sqlite.prepare("SELECT count(*) AS n FROM dsr_requests WHERE kind = 'rectify'").get(),
    ).toEqual({ n: 1 })
  })

  it('refuses absurdly long fields and bad values with a clear message, changing nothing', async () => {
    const t = await setup()
    const before = t.row()
    const res = await t.correct({ attr_first_name: 'A'.repeat(100_000), lang: 'en' })
    expect(res.status).toBe(400)
    const html = decode(await res.text())
    expect(html).toContain('"First name" is too long: at most 1000 characters.')
    expect(html).toContain('aria-invalid="true"')
    expect(t.row()).toEqual(before)
    const bad = await t.correct({ locale: 'de', email: 'nope', 'attr_bad name': 'x' })
    expect(bad.status).toBe(400)
    const text = decode(await bad.text())
    expect(text).toContain("«\u00a0Langue\u00a0» n'est pas valide.")
    expect(text).toContain('Un des champs envoyés n')
    expect(text).toContain("«\u00a0Adresse e-mail\u00a0» n'est pas valide.")
    expect(t.row()).toEqual(before)
  })

  it('is origin-checked', async () => {
    const t = await setup()
    const res = await t.correct({ attr_first_name: 'Mallory' }, 'https://evil.example')
    expect(res.status).toBe(403)
    expect((await t.exported()).profile.attributes.first_name).toBe('Ane')
  })
})

describe('changing the e-mail address', () => {
  async function askChange(t: Awaited<ReturnType<typeof setup>>, email = 'anne.new@exemple.fr') {
    const res = await t.correct({ attr_first_name: 'Ane', attr_last_name: 'Dupont', email })
    expect(res.headers.get('location')).toBe(`${t.link}?done=email-sent&lang=fr`)
    await deliverOutbox(t.deps)
    const mail = t.mail.sent.at(-1)!
    return { mail, path: /\/me\/[\w.-]+\/address/.exec(mail.text)![0] }
  }

  it('mails a link to the new address and changes nothing until it is confirmed there', async () => {
    const t = await setup()
    const before = t.row()
    const { mail, path } = await askChange(t, 'Anne.New@Exemple.fr')
    expect(mail.to).toBe('anne.new@exemple.fr')
    expect(mail.subject).toBe('Confirmez votre nouvelle adresse – ACME')
    // The outbox row and the link carry the new address only encrypted.
    const [queued] = t.outbox('mail.email_change')
    expect(queued!.payload).not.toContain('anne.new')
    expect(
      atob(path.split('/')[2]!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')),
    ).not.toContain('anne.new')
    expect(t.row()).toEqual(before)
    expect(await findContactByRef(t.deps, 'anne.new@exemple.fr')).toBeUndefined()

    // Opening the link shows the address and a button (mail scanners open links), and changes nothing.
    const page = await t.app.request(path)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('anne.new@exemple.fr')
    expect(t.row()).toEqual(before)

    const res = await t.post(path, '')
    expect(res.status).toBe(200)
    expect(decode(await res.text())).toContain('Adresse modifiée')
    expect((await findContactByRef(t.deps, 'anne.new@exemple.fr'))?.id).toBe(t.contactId)
    expect(await findContactByRef(t.deps, 'anne@exemple.fr')).toBeUndefined()
    expect(t.row().email_bidx).not.toBe(before.email_bidx)
    expect(String(t.row().email_enc)).not.toContain('anne')
    expect((await t.exported()).profile.email).toBe('anne.new@exemple.fr')
    const dsr = t.sqlite
      .prepare("SELECT * FROM dsr_requests WHERE details LIKE '%email%'")
      .get() as any
    expect(dsr).toMatchObject({ kind: 'rectify', completed_at: t.clock.now() })

    // Twice: already done.
    const again = await t.post(path, '')
    expect(decode(await again.text())).toContain('Déjà modifiée')
  })

  it('refuses, neutrally, an address that belongs to another contact', async () => {
    const t = await setup()
    await subscribe(t.deps, { ...API_CONSENT, email: 'bob@exemple.fr', purposes: ['cookies'] })
    const before = t.row()
    const { mail, path } = await askChange(t, 'bob@exemple.fr')
    expect(mail.to).toBe('bob@exemple.fr')
    const res = await t.post(path, '')
    const html = decode(await res.text())
    expect(html).toContain('Adresse non modifiée')
    expect(html).not.toContain('bob@')
    expect(t.row()).toEqual(before)
  })

  it('refuses forged, expired and cross-origin confirmations', async () => {
    const t = await setup()
    const before = t.row()
    const { path } = await askChange(t)
    expect((await t.post(path, '', 'https://evil.example')).status).toBe(403)
    expect((await t.post('/me/forged.token.x/address', '')).status).toBe(404)
    // An access link is not a new-address link.
    expect((await t.post(`${t.link}/address`, '')).status).toBe(404)
    t.clock.advance(25 * 60 * 60_000)
    expect((await t.post(path, '')).status).toBe(410)
    expect(t.row()).toEqual(before)
  })
})
