// /me/{token}: everything held (profile, consents with wording and history, requests, what Mautic
// holds, live with a timeout) and the downloads (JSON, CSV) of GDPR Art. 15 and 20.
import { delay, http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { csvCell } from '../../../../src/domain/rights/data-export-csv.ts'
import { emailChangeUrl } from '../../../../src/domain/rights/email-change.ts'
import { confirmOptin } from '../../../../src/domain/consent/optin.ts'
import { deliverOutbox } from '../../../../src/domain/platform/outbox.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { createMauticClient } from '../../../../src/mautic/client.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'

const MAUTIC = 'https://mautic.test'
const MAUTIC_ENV = { MAUTIC_URL: MAUTIC, MAUTIC_USERNAME: 'u', MAUTIC_PASSWORD: 'p' }

const decode = (html: string) =>
  html
    .replace(/&#x27;/g, "'")
    .replace(/&#x3D;/g, '=')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')

/** Mautic's REST API for contact 42, as the data page reads it (the client's real HTTP calls). */
const mautic = setupServer()
beforeAll(() => mautic.listen({ onUnhandledRequest: 'error' }))
afterEach(() => mautic.resetHandlers())
afterAll(() => mautic.close())

function mauticAnswers() {
  const basic = (r: { headers: Headers }) =>
    r.headers.get('authorization') === `Basic ${btoa('u:p')}`
  mautic.use(
    http.get(`${MAUTIC}/api/contacts/42`, ({ request }) =>
      basic(request)
        ? HttpResponse.json({
            contact: {
              id: 42,
              fields: { all: { id: 42, email: 'anne@exemple.fr', firstname: 'Anne', city: null } },
              tags: [{ id: 1, tag: 'vip' }],
              doNotContact: [],
            },
          })
        : HttpResponse.json({ errors: [{ code: 401, message: 'auth' }] }, { status: 401 }),
    ),
    http.get(`${MAUTIC}/api/contacts/42/segments`, () =>
      HttpResponse.json({ total: 1, lists: { 3: { id: 3, name: 'Clients France', alias: 'cf' } } }),
    ),
    http.get(`${MAUTIC}/api/contacts/42/activity`, () =>
      HttpResponse.json({
        events: [
          {
            event: 'email.read',
            eventLabel: 'Offre de printemps',
            timestamp: '2026-11-01T10:00:00+00:00',
          },
        ],
      }),
    ),
  )
}

async function setup(env: Record<string, string> = {}, attributes?: Record<string, string>) {
  const t = await testApp({ ORG_NAME: 'ACME', ...env })
  const r = await subscribe(t.deps, {
    ...API_CONSENT,
    email: 'anne@exemple.fr',
    purposes: ['newsletter', 'cookies'],
    attributes: attributes ?? { first_name: 'Anne', last_name: 'Dupont' },
  })
  if (!r.ok) throw new Error(r.message)
  await deliverOutbox(t.deps)
  const confirm = /\/c\/([\w.-]+)/.exec(t.mail.sent[0]!.text)![1]!
  expect((await confirmOptin(t.deps, confirm, { ip: '198.51.100.7' })).status).toBe('confirmed')
  await t.app.request('/privacy', {
    method: 'POST',
    body: 'email=anne%40exemple.fr',
    headers: { Origin: 'http://gateway.test', 'Content-Type': 'application/x-www-form-urlencoded' },
  })
  await deliverOutbox(t.deps)
  const link = /\/me\/[\w.-]+/.exec(t.mail.sent.at(-1)!.text)![0]
  const open = async (path = '') => {
    const res = await t.app.request(`${link}${path}`)
    return { res, html: decode(await res.text()) }
  }
  const linkMautic = (id: string) =>
    t.sqlite
      .prepare("INSERT INTO contact_links VALUES ('mautic', ?, ?, ?)")
      .run(id, r.contactId, t.clock.now())
  return { ...t, contactId: r.contactId, link, open, linkMautic }
}

describe('the data page', () => {
  it('shows the profile, every consent with its wording, the history with evidence, and the requests', async () => {
    const t = await setup()
    const { res, html } = await t.open('?lang=en')
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(html).toContain('<html lang="en">')
    expect(html).toContain('<dd>anne@exemple.fr</dd>')
    expect(html).toContain('<dt>First name</dt><dd>Anne</dd>')
    expect(html).toContain('<dt>Last name</dt><dd>Dupont</dd>')
    // The wording agreed to, exactly (the contact subscribed in French), and its version.
    expect(html).toContain('Cochez cette case pour vous abonner à notre newsletter.')
    expect(html).toContain('Wording agreed to (version 1)')
    expect(html).toMatch(/<strong>Newsletter<\/strong><br>granted/)
    // The history: requested, then confirmed with the confirming IP as evidence.
    expect(html).toMatch(/<strong>Newsletter<\/strong><br>requested<br>/)
    expect(html).toMatch(/<strong>Newsletter<\/strong><br>confirmed<br>/)
    expect(html).toContain('<dt>IP address</dt><dd>198.51.100.7</dd>')
    expect(html).toMatch(/<strong>Access to your data<\/strong> — received on 29 November 2026/)
    expect(html).toContain('completed on 29 November 2026')
    // No Mautic configured: no Mautic section.
    expect(html).not.toContain('Mautic')
  })

  it('escapes scripts in names', async () => {
    const t = await setup(
      {},
      { first_name: '<script>alert(1)</script>', last_name: '"><img src=x>' },
    )
    const res = await t.app.request(t.link)
    const raw = await res.text()
    expect(raw).not.toContain('<script>alert(1)')
    expect(raw).not.toContain('<img src=x>')
    expect(raw).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    const form = await (await t.app.request(`${t.link}/correct`)).text()
    expect(form).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"')
    expect(form).toContain('value="&quot;&gt;&lt;img src&#x3D;x&gt;"')
  })

  it('does not open for a link that checks a new address, nor once the contact is erased', async () => {
    const t = await setup()
    const other = new URL(await emailChangeUrl(t.deps, t.contactId, 'r1', 'x.y')).pathname
    const token = other.split('/')[2]
    expect((await t.app.request(`/me/${token}`)).status).toBe(404)
    t.sqlite.prepare("UPDATE contacts SET status = 'erased'").run()
    const { res, html } = await t.open('?lang=en')
    expect(res.status).toBe(410)
    expect(html).toContain('This link no longer opens anything')
    expect(html).toContain('href="/privacy?lang=en"')
  })
})

describe('downloads (Art. 20)', () => {
  it('JSON: an attachment with everything held, and one export request however many downloads', async () => {
    const t = await setup()
    const res = await t.app.request(`${t.link}/export.json`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="my-data-2026-11-29.json"',
    )
    expect(res.headers.get('cache-control')).toBe('no-store')
    const data = (await res.json()) as any
    expect(data.profile).toMatchObject({
      contact_id: t.contactId,
      email: 'anne@exemple.fr',
      locale: 'fr',
      attributes: { first_name: 'Anne', last_name: 'Dupont' },
    })
    expect(data.controller.name).toBe('ACME')
    const newsletter = data.consents.find((c: any) => c.purpose === 'newsletter')
    expect(newsletter).toMatchObject({ status: 'granted', notice: { version: 1, locale: 'fr' } })
    expect(newsletter.notice.text).toContain('abonner à notre newsletter')
    expect(data.history.map((e: any) => `${e.purpose}:${e.action}`)).toEqual([
      'newsletter:requested',
      'cookies:granted',
      'newsletter:confirmed',
    ])
    expect(data.history[2].evidence).toMatchObject({ ip: '198.51.100.7' })
    expect(data.requests).toEqual([
      expect.objectContaining({ kind: 'access', completedAt: null }), // not opened as a page yet
    ])
    expect(data.consent_receipt.split('.')).toHaveLength(3)

    await t.app.request(`${t.link}/export.csv`)
    const exports = t.sqlite
      .prepare("SELECT * FROM dsr_requests WHERE kind = 'export'")
      .all() as Record<string, unknown>[]
    expect(exports).toEqual([
      expect.objectContaining({
        contact_id: t.contactId,
        channel: 'self_service',
        completed_at: t.clock.now(),
        due_at: Date.UTC(2026, 11, 29, 9, 0, 0),
      }),
    ])
    expect(exports[0]!.details).not.toContain('anne')
  })

  it('CSV: quoted where needed, formulas defused, UTF-8 with a BOM', async () => {
    const t = await setup(
      {},
      {
        first_name: '=HYPERLINK("http://evil.example","x")',
        last_name: 'Dupont, "la grande"\nligne 2',
        company: '@SUM(1+1)',
        city: '+33 1 23',
        country: '-2',
        // A French spreadsheet splits on `;`: the rest must not become a formula cell.
        title: 'x;=1+1',
      },
    )
    const res = await t.app.request(`${t.link}/export.csv`)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="my-data-2026-11-29.csv"',
    )
    const bytes = new Uint8Array(await res.clone().arrayBuffer())
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf])
    const csv = (await res.text()).replace(/^\uFEFF/, '')
    const lines = csv.split('\r\n')
    expect(lines[0]).toBe('section,item,field,value')
    expect(lines).toContain('profile,,email,anne@exemple.fr')
    expect(lines).toContain(`attribute,,first_name,"'=HYPERLINK(""http://evil.example"",""x"")"`)
    expect(csv).toContain('attribute,,last_name,"Dupont, ""la grande""\nligne 2"\r\n')
    expect(lines).toContain("attribute,,company,'@SUM(1+1)")
    expect(lines).toContain("attribute,,city,'+33 1 23")
    expect(lines).toContain("attribute,,country,'-2")
    expect(lines).toContain('attribute,,title,"x;=1+1"')
    expect(lines).toContain('consent,newsletter,status,granted')
    expect(lines).toContain('event,3,action,confirmed')
  })

  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@x', "'@x"],
    ['\tx', "'\tx"],
    ['=a,b', `"'=a,b"`],
    [null, ''],
    [42, '42'],
  ])('csvCell(%j) is %j', (value, cell) => {
    expect(csvCell(value)).toBe(cell)
  })
})

describe('what Mautic holds', () => {
  async function withMautic() {
    const t = await setup(MAUTIC_ENV)
    t.deps.mautic = createMauticClient(t.deps.config.mautic!, { maxRetries: 0, timeoutMs: 5_000 })
    return t
  }

  it('shows the fields, tags, segments and recent activity of every linked Mautic contact', async () => {
    const t = await withMautic()
    mauticAnswers()
    t.linkMautic('42')
    const { html } = await t.open('?lang=en')
    expect(html).toContain('In our marketing tool (Mautic)')
    expect(html).toContain('Record no. 42')
    expect(html).toContain('<dt>firstname</dt><dd>Anne</dd>')
    expect(html).not.toContain('<dt>city</dt>') // empty fields are left out
    expect(html).toContain('<dt>Tags</dt><dd>vip</dd>')
    expect(html).toContain('<dt>Segments</dt><dd>Clients France</dd>')
    expect(html).toContain('Offre de printemps')
  })

  it('says "unavailable right now" when Mautic fails', async () => {
    const t = await withMautic()
    mauticAnswers()
    mautic.use(
      http.get(`${MAUTIC}/api/contacts/42/activity`, () => new HttpResponse(null, { status: 503 })),
    )
    t.linkMautic('42')
    const { res, html } = await t.open('?lang=en')
    expect(res.status).toBe(200)
    expect(html).toContain('This information is unavailable right now')
    expect(html).not.toContain('Clients France') // nothing partial
    expect(html).toContain('<dd>anne@exemple.fr</dd>') // the rest of the page is there
  })

  it('says "unavailable right now" after about 2 s when Mautic does not answer', async () => {
    const t = await withMautic()
    mauticAnswers()
    mautic.use(
      http.get(`${MAUTIC}/api/contacts/42`, async () => {
        await delay('infinite')
        return HttpResponse.json({})
      }),
    )
    t.linkMautic('42')
    const started = performance.now()
    const { res, html } = await t.open('?lang=en')
    const ms = performance.now() - started
    expect(res.status).toBe(200)
    expect(html).toContain('This information is unavailable right now')
    expect(ms).toBeGreaterThanOrEqual(1_900)
    expect(ms).toBeLessThan(4_000)
  })

  it('says Mautic holds nothing when the contact has no Mautic link', async () => {
    const t = await withMautic()
    const { html } = await t.open('?lang=en')
    expect(html).toContain('Our marketing tool holds no data about you.')
  })
})
