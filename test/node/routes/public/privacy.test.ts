// GET|POST /privacy and the preference center's button: the same answer for known and unknown
// addresses, rate limits, and a one-hour access link mailed from the outbox in the contact's language.
import { describe, expect, it } from 'vitest'
import { preferencesUrl } from '../../../../src/domain/sending/links.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { API_CONSENT, drainOutbox, testApp } from '../../../helpers/deps.ts'

const ORIGIN = 'http://gateway.test'

/** Page text as a reader sees it: Handlebars escapes ' and = in text and attributes. */
const decode = (html: string) =>
  html
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')

async function setup(env: Record<string, string> = {}) {
  const t = await testApp({ ORG_NAME: 'ACME', ...env })
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['cookies'],
    locale: 'en',
  })
  if (!r.ok) throw new Error(r.message)
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    t.app.request(path, {
      method: 'POST',
      body,
      headers: {
        Origin: ORIGIN,
        'Content-Type': 'application/x-www-form-urlencoded',
        ...headers,
      },
    })
  const ask = (email: string, extra = '') =>
    post('/privacy', `email=${encodeURIComponent(email)}&lang=fr${extra}`)
  const count = (table: string) =>
    (t.sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
  return { ...t, contactId: r.contactId, post, ask, count }
}

/** The page a POST-redirect-GET ends on. */
async function follow(t: Awaited<ReturnType<typeof setup>>, res: Response) {
  const res2 = await t.app.request(res.headers.get('location')!)
  return { status: res2.status, html: await res2.text() }
}

describe('GET /privacy', () => {
  it('is a labelled form in French or English, with the organisation and no pre-filled address', async () => {
    const t = await setup({ ORG_PRIVACY_URL: 'https://acme.example/privacy' })
    const fr = await (
      await t.app.request('/privacy', { headers: { 'Accept-Language': 'fr' } })
    ).text()
    expect(fr).toContain('<html lang="fr">')
    expect(fr).toContain('Accéder à vos données')
    expect(fr).toMatch(/<label for="email">Votre adresse e-mail<\/label>/)
    expect(fr).toContain('value=""')
    expect(fr).toContain('https://acme.example/privacy')
    const en = await (await t.app.request('/privacy?lang=en')).text()
    expect(en).toContain('<html lang="en">')
    expect(en).toContain('Access your data')
  })
})

describe('POST /privacy', () => {
  it('answers a known and an unknown address with the same redirect and the same page', async () => {
    const t = await setup()
    const known = await t.ask('Anne@Exemple.fr ')
    const unknown = await t.ask('nobody@exemple.fr')
    expect(known.status).toBe(303)
    expect(unknown.status).toBe(known.status)
    expect(unknown.headers.get('location')).toBe(known.headers.get('location'))
    expect(await unknown.text()).toBe(await known.text())
    const [a, b] = [await follow(t, known), await follow(t, unknown)]
    expect(a.status).toBe(200)
    expect(b).toEqual(a)
    expect(a.html).toContain('Consultez votre boîte de réception')
  })

  it('mails a one-hour link to a known address only, from the outbox, with no address in the payload', async () => {
    const t = await setup()
    await t.ask('nobody@exemple.fr')
    // A job is queued either way; for an unknown address it records nothing and sends nothing.
    await drainOutbox(t.deps)
    expect(t.count('dsr_requests')).toBe(0)
    expect(t.mail.sent).toHaveLength(0)

    await t.ask('anne@exemple.fr')
    const row = t.sqlite
      .prepare("SELECT payload FROM outbox WHERE kind = 'access.request' ORDER BY id DESC")
      .get() as { payload: string }
    expect(JSON.parse(row.payload)).toEqual({
      requestId: expect.any(String),
      emailEnc: expect.any(String),
      receivedAt: t.clock.now(),
    })
    expect(row.payload).not.toContain('anne')
    expect(t.mail.sent).toHaveLength(0) // not sent during the request

    await deliverOutbox(t.deps)
    expect(t.mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr'])
    const mail = t.mail.sent[0]!
    // The contact's language (English), not the page's (French).
    expect(mail.subject).toBe('Access to your data – ACME')
    expect(mail.text).toContain('expires in 60 minutes')
    const link = /http:\/\/gateway\.test(\/me\/[\w.-]+)/.exec(mail.text)![1]!
    expect(mail.html).toContain(link)

    const page = await t.app.request(link)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('anne@exemple.fr')
    // The logs name neither the address nor the link.
    const logged = JSON.stringify(t.logs)
    expect(logged).toContain('/me/:redacted')
    expect(logged).not.toContain(link.split('/')[2]!)
    expect(logged).not.toContain('anne@')
  })

  it('records the access request with its due date, verified and completed when the page opens', async () => {
    const t = await setup()
    await t.ask('anne@exemple.fr')
    const askedAt = t.clock.now()
    t.clock.advance(2_000) // the job runs a little later: the request was received when asked
    await deliverOutbox(t.deps)
    const dsr = () =>
      t.sqlite.prepare('SELECT * FROM dsr_requests').get() as Record<string, number | string | null>
    expect(dsr()).toMatchObject({
      contact_id: t.contactId,
      kind: 'access',
      channel: 'self_service',
      received_at: askedAt,
      due_at: Date.UTC(2026, 11, 29, 9, 0, 0),
      verified_at: null,
      completed_at: null,
    })
    const link = /\/me\/[\w.-]+/.exec(t.mail.sent[0]!.text)![0]
    t.clock.advance(60_000)
    await t.app.request(link)
    expect(dsr()).toMatchObject({ verified_at: t.clock.now(), completed_at: t.clock.now() })
    t.clock.advance(60_000)
    await t.app.request(link) // opening it again changes nothing
    expect(dsr()).toMatchObject({ completed_at: t.clock.now() - 60_000 })
  })

  it('access links expire after one hour: a clear page that leads back to /privacy', async () => {
    const t = await setup()
    await t.ask('anne@exemple.fr')
    await deliverOutbox(t.deps)
    const link = /\/me\/[\w.-]+/.exec(t.mail.sent[0]!.text)![0]
    t.clock.advance(59 * 60_000)
    expect((await t.app.request(link)).status).toBe(200)
    t.clock.advance(2 * 60_000)
    const res = await t.app.request(`${link}?lang=en`)
    expect(res.status).toBe(410)
    const html = decode(await res.text())
    expect(html).toContain('This link has expired')
    expect(html).toContain('href="/privacy?lang=en"')
    expect(html).not.toContain('anne@')
  })

  it('refuses forged links with a clear page', async () => {
    const t = await setup()
    for (const token of [
      'forged',
      'a.b.c',
      `${'x'.repeat(30)}.${'y'.repeat(30)}.${'z'.repeat(30)}`,
    ]) {
      const res = await t.app.request(`/me/${token}?lang=fr`)
      expect(res.status).toBe(404)
      const html = decode(await res.text())
      expect(html).toContain("Ce lien n'est pas valide")
      expect(html).toContain('href="/privacy?lang=fr"')
    }
  })

  it('sends no mail to an erased contact', async () => {
    const t = await setup()
    t.sqlite.prepare("UPDATE contacts SET status = 'erased'").run()
    const res = await t.ask('anne@exemple.fr')
    expect(res.status).toBe(303)
    await drainOutbox(t.deps)
    expect(t.mail.sent).toHaveLength(0)
    expect(t.count('dsr_requests')).toBe(0)
  })

  it('limits mails per address silently (the same answer) and requests per client with a 429 page', async () => {
    const t = await setup()
    for (let i = 0; i < 5; i++) expect((await t.ask('anne@exemple.fr')).status).toBe(303)
    await drainOutbox(t.deps)
    expect(t.mail.sent).toHaveLength(3)
    for (let i = 0; i < 5; i++) expect((await t.ask(`other${i}@exemple.fr`)).status).toBe(303)
    const limited = await t.ask('anne@exemple.fr')
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await limited.text()).toContain('Trop de demandes')
    // The address limit is per hour, the client limit per 10 minutes.
    t.clock.advance(61 * 60_000)
    expect((await t.ask('anne@exemple.fr')).status).toBe(303)
    await drainOutbox(t.deps)
    expect(t.mail.sent).toHaveLength(4)
  })

  it('does the same database writes on the request path for a known and an unknown address', async () => {
    /** Every write to any table while `ask` runs, as (table, operation), logged by temporary triggers. */
    async function writesOf(email: string) {
      const t = await setup()
      t.sqlite.exec('CREATE TEMP TABLE write_log (n INTEGER PRIMARY KEY, tbl TEXT, op TEXT)')
      const tables = t.sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[]
      for (const table of tables)
        for (const op of ['INSERT', 'UPDATE', 'DELETE'])
          t.sqlite.exec(
            `CREATE TEMP TRIGGER log_${op}_${table} AFTER ${op} ON main.${table}
             BEGIN INSERT INTO write_log (tbl, op) VALUES ('${table}', '${op}'); END`,
          )
      expect((await t.ask(email)).status).toBe(303)
      return t.sqlite.prepare('SELECT tbl, op FROM write_log ORDER BY n').all()
    }
    const known = await writesOf('anne@exemple.fr')
    expect(known).toEqual([
      { tbl: 'rate_limits', op: 'INSERT' },
      { tbl: 'outbox', op: 'INSERT' },
    ])
    expect(await writesOf('nobody@exemple.fr')).toEqual(known)
  })

  it('behind TRUST_PROXY proxies, counts the client the proxy saw, not the X-Forwarded-For it wrote', async () => {
    for (const [hops, proxies] of [
      ['1', ''],
      ['2', ', 10.0.0.2'],
    ] as const) {
      const t = await setup({ TRUST_PROXY: hops })
      // One client, a made-up left-most entry per request: the proxy appends the address it saw.
      const from = (i: number) => ({ 'X-Forwarded-For': `203.0.113.${i}, 198.51.100.7${proxies}` })
      const answers = []
      for (let i = 0; i < 12; i++)
        answers.push((await t.post('/privacy', `email=x${i}%40exemple.fr`, from(i))).status)
      expect(answers.slice(0, 10)).toEqual(Array(10).fill(303))
      expect(answers.slice(10)).toEqual([429, 429])
      // Another client behind the same proxy is not held back.
      const other = await t.post('/privacy', 'email=y%40exemple.fr', {
        'X-Forwarded-For': `198.51.100.8${proxies}`,
      })
      expect(other.status).toBe(303)
    }
  })

  it('says what is wrong with a bad or absurdly long address, keeping what was typed', async () => {
    const t = await setup()
    const bad = await t.ask('not-an-address')
    expect(bad.status).toBe(400)
    const html = await bad.text()
    expect(html).toContain('Saisissez une adresse e-mail valide')
    expect(html).toContain('value="not-an-address"')
    expect(html).toContain('aria-invalid="true"')
    const long = await t.ask(`${'a'.repeat(100_000)}@exemple.fr`)
    expect(long.status).toBe(400)
    expect(await long.text()).toContain('trop longue')
    const script = await t.ask('<script>alert(1)</script>')
    expect(script.status).toBe(400)
    const escaped = await script.text()
    expect(escaped).not.toContain('<script>alert(1)')
    expect(escaped).toContain('&lt;script&gt;')
    expect(t.count('dsr_requests')).toBe(0)
  })

  it('refuses a post from another origin', async () => {
    const t = await setup()
    const res = await t.post('/privacy', 'email=anne%40exemple.fr', {
      Origin: 'https://evil.example',
    })
    expect(res.status).toBe(403)
    expect(t.count('outbox')).toBe(0)
  })
})

describe('the preference center button', () => {
  it('mails the access link to the contact’s own address, whoever clicks', async () => {
    const t = await setup()
    const path = new URL(await preferencesUrl(t.deps, t.contactId)).pathname
    const page = await (await t.app.request(path)).text()
    expect(page).toContain(`action="${path}/access"`)
    expect(page).not.toContain('anne@')

    const res = await t.post(`${path}/access`, 'lang=en')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`${path}?access=sent&lang=en`)
    expect(await (await t.app.request(res.headers.get('location')!)).text()).toContain(
      'We have sent a link to your data',
    )
    await deliverOutbox(t.deps)
    expect(t.mail.sent.map((m) => m.to)).toEqual(['anne@exemple.fr'])
    expect(t.mail.sent[0]!.text).toMatch(/http:\/\/gateway\.test\/me\/[\w.-]+/)
    const dsr = t.sqlite.prepare('SELECT kind, details FROM dsr_requests').get()
    expect(dsr).toEqual({ kind: 'access', details: '{"source":"preference_center"}' })
  })

  it('is origin-checked and refuses forged preference links', async () => {
    const t = await setup()
    const path = new URL(await preferencesUrl(t.deps, t.contactId)).pathname
    expect((await t.post(`${path}/access`, '', { Origin: 'https://evil.example' })).status).toBe(
      403,
    )
    expect((await t.post('/p/forged/access', '')).status).toBe(404)
    expect(t.count('outbox')).toBe(0)
  })
})
