// The console's compliance screens (README "Compliance"), through the real app with signed-in sessions:
// each screen in French and English, Mautic's fields imported from the fake, a special-category
// suggestion shown with its reason and classified only by the form, the risk report, the record of
// processing activities (page, CSV, JSON), processors with a webhook secret shown once, incidents
// with their 72-hour clock on every screen, recipients' tasks with personal data behind
// contacts.personal, proof bundles behind a fresh second factor; every action in the audit log.
import type { JSONWebKeySet } from 'jose'
import { describe, expect, it } from 'vitest'
import { bundleVerifier } from '../../../../src/domain/compliance/bundle-verify.ts'
import { createProcessor } from '../../../../src/domain/compliance/processors.ts'
import { listRecipientNotices } from '../../../../src/domain/compliance/recipients.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { totpCode } from '../../../../src/domain/admin/totp.ts'
import { findContact } from '../../../../src/domain/platform/contacts.ts'
import { correctContact } from '../../../../src/domain/rights/correction.ts'
import { createMauticClient } from '../../../../src/mautic/client.ts'
import adminComplianceEn from '../../../../src/locales/admin-compliance.en.json' with { type: 'json' }
import adminComplianceFr from '../../../../src/locales/admin-compliance.fr.json' with { type: 'json' }
import { makeAdmin, signIn, TEST_ITERATIONS, type TestAdmin } from '../../../helpers/admin.ts'
import { API_CONSENT, testApp } from '../../../helpers/deps.ts'
import { useMautic } from '../../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')
const HOUR = 3_600_000

async function setup() {
  const t = await testApp(
    { ORG_NAME: 'ACME', DPO_EMAIL: 'dpo@acme.test', ...mautic.env },
    {
      pbkdf2Iterations: TEST_ITERATIONS,
      mautic: createMauticClient(mautic.connection, { sleep: async () => {} }),
    },
  )
  mautic.addField({ alias: 'sante_allergies', type: 'textarea', label: 'Allergies et santé' })
  mautic.addField({ alias: 'secteur_activite', type: 'lookup', label: 'Secteur' })
  const dpo = await makeAdmin(t.deps, 'dpo')
  const b = await signIn(t.app, t.deps, dpo)
  const csrf = await b.csrf()
  const audits = (action: string) =>
    t.sqlite.prepare('SELECT * FROM audit_log WHERE action = ? ORDER BY seq').all(action) as {
      actor: string
      target: string | null
      details: string
    }[]
  return { ...t, dpo, b, csrf, audits }
}
type T = Awaited<ReturnType<typeof setup>>

const html = async (res: Response) => {
  expect(res.headers.get('content-type')).toMatch(/text\/html/)
  return res.text()
}
const fieldId = async (t: T, name: string) =>
  (t.sqlite.prepare('SELECT id FROM data_fields WHERE name = ?').get(name) as { id: string }).id

/** A form with a repeated name (checkboxes), as a browser sends it. */
const postPairs = (t: T, path: string, pairs: [string, string][]) =>
  t.app.request(`http://gateway.test${path}`, {
    method: 'POST',
    headers: {
      Cookie: t.b.cookie,
      Origin: 'http://gateway.test',
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams([['_csrf', t.csrf], ...pairs]).toString(),
  })

/** The secret in its read-only box, unescaped as the browser shows it (base64 may end in '='). */
const secretIn = (page: string) => /value="(whsec_[^"]+)"/.exec(page)![1]!.replace(/&#x3D;/g, '=')

async function imported(t: T) {
  const res = await t.b.post('/admin/compliance/fields/import?lang=en', { _csrf: t.csrf })
  expect(res.status).toBe(200)
  return html(res)
}

describe('console: data inventory', () => {
  it('imports Mautic’s fields and the gateway’s own, in both languages, with an audit entry', async () => {
    const t = await setup()
    const page = await imported(t)
    expect(mautic.calls('GET', '/api/fields/contact')).toHaveLength(1)
    expect(page).toContain('Gateway: 14 added')
    expect(page).toMatch(/Mautic: \d+ added/)
    expect(page).toContain('sante_allergies')
    expect(t.audits('compliance.fields.import')).toHaveLength(1)

    const en = await html(await t.b.get('/admin/compliance/fields?lang=en'))
    expect(en).toContain('<h1>Data inventory</h1>')
    expect(en).toContain('Because the word “sante” appears in its name or label.')
    const fr = await html(await t.b.get('/admin/compliance/fields?lang=fr'))
    expect(fr).toContain('<html lang="fr">')
    expect(fr).toContain('<h1>Inventaire des données</h1>')
    expect(fr).toContain('Parce que le mot «\u00a0sante\u00a0» figure dans son nom ou son libellé.')
    // Filters: the gateway's fields only, none confirmed yet.
    const gateway = await html(await t.b.get('/admin/compliance/fields?source=gateway&lang=en'))
    expect(gateway).toContain('Fields: 14')
    expect(gateway).not.toContain('sante_allergies')
    const confirmed = await html(await t.b.get('/admin/compliance/fields?status=confirmed'))
    expect(confirmed).toContain('No field.')
  })

  it('shows a special-category suggestion and why; nothing is classified until a person confirms it', async () => {
    const t = await setup()
    await imported(t)
    const id = await fieldId(t, 'sante_allergies')
    const page = await html(await t.b.get(`/admin/compliance/fields/${id}?lang=en`))
    expect(page).toContain('Special category (Art. 9, 10)')
    expect(page).toContain('Art. 9 special category · health')
    expect(page).toContain('Because the word “sante” appears in its name or label.')
    expect(page).toContain('Awaiting confirmation')
    // The suggestion is preselected and marked, but the field is not classified.
    expect(page).toMatch(
      /value="special" required checked><label for="cat-special">[^<]+<strong>\(suggested\)/,
    )
    const row = () =>
      t.sqlite.prepare('SELECT * FROM data_fields WHERE id = ?').get(id) as Record<string, unknown>
    expect(row()).toMatchObject({ category: null, confirmed_at: null })
    const risks = await html(await t.b.get('/admin/compliance/risks?lang=en'))
    expect(risks).toContain('Special data without an Art. 9(2) condition')
    expect(risks).toContain(`/admin/compliance/fields/${id}`)

    const fr = await html(await t.b.get(`/admin/compliance/fields/${id}?lang=fr`))
    expect(fr).toContain('Catégorie particulière de l’art. 9 · santé')
    expect(fr).toContain('suggérée')

    // A bad retention period is refused with the page and what was typed kept.
    const bad = await t.b.post(`/admin/compliance/fields/${id}?lang=en`, {
      _csrf: t.csrf,
      category: 'special',
      purpose: 'événements',
      retention_days: 'three years',
    })
    expect(bad.status).toBe(400)
    const badPage = await bad.text()
    expect(badPage).toContain('The retention period is a whole number of days')
    expect(badPage).toContain('value="événements"')
    expect(row()).toMatchObject({ confirmed_at: null })

    const crm = await createProcessor(t.deps, { name: 'CRM', role: 'processor', country: 'FR' })
    if (!crm.ok) throw new Error('processor')
    const res = await t.b.post(`/admin/compliance/fields/${id}?lang=en`, {
      _csrf: t.csrf,
      category: 'special',
      purpose: 'events',
      legal_basis: 'consent',
      retention_days: '365',
      special_condition: 'Art. 9(2)(a) explicit consent',
      processors: crm.processor.id,
      notes: 'dietary needs at events',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(
      `/admin/compliance/fields/${id}?done=classified&lang=en`,
    )
    expect(row()).toMatchObject({
      category: 'special',
      legal_basis: 'consent',
      retention_days: 365,
      special_condition: 'Art. 9(2)(a) explicit consent',
      confirmed_by: `admin:${t.dpo.id}`,
    })
    const after = await html(await t.b.get(`/admin/compliance/fields/${id}?done=classified`))
    expect(after).toContain('Classification confirmed.')
    expect(after).toContain('CRM')
    const [entry] = t.audits('compliance.field.classify')
    expect(entry).toMatchObject({ actor: `admin:${t.dpo.id}`, target: `field:${id}` })
    expect(JSON.parse(entry!.details)).toMatchObject({ category: 'special', suggested: 'special' })
    const closed = await html(await t.b.get('/admin/compliance/risks?status=closed&lang=en'))
    expect(closed).toContain('Special data without an Art. 9(2) condition')

    // A free-text field: the review is recorded, and audited.
    const review = await t.b.post(`/admin/compliance/fields/${id}/review`, {
      _csrf: t.csrf,
      note: 'looked at 40 entries: diets only',
    })
    expect(review.status).toBe(303)
    expect(row().review_note).toBe(`looked at 40 entries: diets only (admin:${t.dpo.id})`)
    expect(t.audits('compliance.field.review')).toHaveLength(1)
  })

  it('adds a field held elsewhere, refuses a duplicate, and marks it no longer held', async () => {
    const t = await setup()
    const add = await t.b.post('/admin/compliance/fields', {
      _csrf: t.csrf,
      name: 'religion_papier',
      label: 'Religion (formulaire papier)',
      type: 'text',
    })
    expect(add.status).toBe(303)
    const id = await fieldId(t, 'religion_papier')
    expect(add.headers.get('location')).toMatch(new RegExp(`/admin/compliance/fields/${id}\\?`))
    const page = await html(await t.b.get(`/admin/compliance/fields/${id}?lang=en`))
    expect(page).toContain('Art. 9 special category · religion')
    expect(page).toContain('Mark as no longer held')
    const again = await t.b.post('/admin/compliance/fields?lang=en', {
      _csrf: t.csrf,
      name: 'religion_papier',
      label: 'Again',
    })
    expect(again.status).toBe(400)
    expect(await again.text()).toContain('A field added by hand already has this name.')
    const bad = await t.b.post('/admin/compliance/fields?lang=fr', {
      _csrf: t.csrf,
      name: 'no spaces allowed',
      label: 'x',
    })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('Le nom se compose de lettres')
    expect(
      (await t.b.post(`/admin/compliance/fields/${id}/remove`, { _csrf: t.csrf })).status,
    ).toBe(303)
    expect(
      (
        t.sqlite.prepare('SELECT removed_at FROM data_fields WHERE id = ?').get(id) as {
          removed_at: number | null
        }
      ).removed_at,
    ).not.toBeNull()
    expect(t.audits('compliance.field.add')).toHaveLength(1)
    expect(t.audits('compliance.field.remove')).toHaveLength(1)
    expect((await t.b.get('/admin/compliance/fields/nope')).status).toBe(404)
  })
})

describe('console: risk report and record of processing', () => {
  it('lists findings by severity in both languages; the refresh is audited', async () => {
    const t = await setup()
    await imported(t)
    const en = await html(await t.b.get('/admin/compliance/risks?lang=en'))
    expect(en).toContain('<h1>Risk report</h1>')
    expect(en).toContain('Field not confirmed by a person')
    expect(en).toMatch(/<span class="count">\d+<\/span> High/)
    expect(en).toContain('Purpose without wording in a language')
    const fr = await html(await t.b.get('/admin/compliance/risks?lang=fr'))
    expect(fr).toContain('<h1>Rapport de risques</h1>')
    expect(fr).toContain('Champ non confirmé par une personne')
    const high = await html(await t.b.get('/admin/compliance/risks?severity=high&lang=en'))
    expect(high).toContain('<strong>Special data without an Art. 9(2) condition</strong>')
    expect(high).not.toContain('<strong>Field not confirmed by a person</strong>')
    const refreshed = await t.b.post('/admin/compliance/risks/refresh?lang=en', { _csrf: t.csrf })
    expect(await html(refreshed)).toMatch(/Report refreshed: 0 opened, 0 closed, \d+ open\./)
    expect(t.audits('compliance.risks.refresh')).toHaveLength(1)
  })

  it('prints the record of processing activities, with its CSV and JSON in the page’s language', async () => {
    const t = await setup()
    await imported(t)
    const id = await fieldId(t, 'secteur_activite')
    await t.b.post(`/admin/compliance/fields/${id}`, {
      _csrf: t.csrf,
      category: 'professional',
      purpose: 'newsletter',
      legal_basis: 'consent',
      retention_days: '1095',
    })
    const en = await html(await t.b.get('/admin/compliance/record?lang=en'))
    expect(en).toContain('<h1>Record of processing activities</h1>')
    expect(en).toContain('<link rel="stylesheet" href="/admin/assets/compliance.css">')
    expect(en).toContain('Purpose: newsletter')
    expect(en).toContain('<code>secteur_activite</code>')
    expect(en).toContain('1095 days')
    expect(en).toContain('dpo@acme.test')
    expect(en).toContain('href="/admin/compliance/record.csv?lang=en"')
    const fr = await html(await t.b.get('/admin/compliance/record?lang=fr'))
    expect(fr).toContain('Registre des activités de traitement')
    expect(fr).toContain('Finalité\u00a0: newsletter')
    const csv = await t.b.get('/admin/compliance/record.csv?lang=fr')
    expect(csv.headers.get('content-disposition')).toBe(
      'attachment; filename="record-of-processing-fr.csv"',
    )
    expect(await csv.text()).toContain('Responsable du traitement')
    const json = (await (await t.b.get('/admin/compliance/record.json?lang=en')).json()) as {
      locale: string
      activities: { purpose: string }[]
    }
    expect(json.locale).toBe('en')
    expect(json.activities.map((a) => a.purpose)).toContain('newsletter')
    expect(t.audits('compliance.record.export')).toHaveLength(2)
    const css = await t.app.request('/admin/assets/compliance.css')
    expect(css.headers.get('content-type')).toMatch(/text\/css/)
    expect(await css.text()).toContain('@media print')
  })
})

describe('console: processors', () => {
  it('registers one with a webhook: the secret is shown once, never stored in clear or audited', async () => {
    const t = await setup()
    const res = await t.b.post('/admin/compliance/processors?lang=en', {
      _csrf: t.csrf,
      name: 'Newsletter SaaS',
      role: 'processor',
      data_categories: 'contact',
      country: 'us',
      transfer_basis: 'scc',
      contract_signed_at: '2026-01-15',
      last_review_at: '',
      webhook_url: 'https://saas.example.test/gdpr',
      notify_rights: 'on',
      notes: '',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const page = await res.text()
    const secret = secretIn(page)
    expect(page).toContain('Copy it now: it is shown only this once.')
    const row = t.sqlite.prepare('SELECT * FROM processors').get() as Record<string, string>
    expect(row).toMatchObject({ name: 'Newsletter SaaS', country: 'US', transfer_basis: 'scc' })
    expect(JSON.stringify(row)).not.toContain(secret.slice(6))
    const detail = await html(await t.b.get(`/admin/compliance/processors/${row.id}?lang=en`))
    expect(detail).not.toContain(secret)
    expect(detail).toContain('Standard contractual clauses (Art. 46)')
    expect(detail).toContain('corrections and erasures by webhook')
    const audit = t.audits('processor.create')
    expect(audit).toHaveLength(1)
    expect(JSON.stringify(audit)).not.toContain(secret.slice(6))

    // A new secret: shown once, different; the old one is gone.
    const rotated = await t.b.post(`/admin/compliance/processors/${row.id}/rotate-secret`, {
      _csrf: t.csrf,
    })
    const again = secretIn(await rotated.text())
    expect(again).not.toBe(secret)
    expect(t.audits('processor.rotate_secret')).toHaveLength(1)
  })

  it('lists, edits, archives and restores, in both languages; bad input keeps what was typed', async () => {
    const t = await setup()
    const created = await t.b.post('/admin/compliance/processors', {
      _csrf: t.csrf,
      name: 'Imprimeur',
      role: 'processor',
      country: 'FR',
      transfer_basis: '',
      contract_signed_at: '',
      last_review_at: '',
      webhook_url: '',
      notify_rights: 'on',
      notes: '',
    })
    expect(created.status).toBe(303)
    const id = (t.sqlite.prepare('SELECT id FROM processors').get() as { id: string }).id
    const fr = await html(await t.b.get('/admin/compliance/processors?lang=fr'))
    expect(fr).toContain('<h1>Sous-traitants et destinataires</h1>')
    expect(fr).toContain('Imprimeur')
    expect(fr).toContain('rectifications et effacements en tâches pour l’équipe')
    const en = await html(await t.b.get(`/admin/compliance/processors/${id}?lang=en`))
    expect(en).toContain('corrections and erasures as tasks for staff')
    const edit = await html(await t.b.get(`/admin/compliance/processors/${id}/edit?lang=en`))
    expect(edit).toContain('value="Imprimeur"')

    const bad = await t.b.post(`/admin/compliance/processors/${id}?lang=en`, {
      _csrf: t.csrf,
      name: 'Imprimeur Martin',
      role: 'processor',
      country: 'France',
      webhook_url: '',
    })
    expect(bad.status).toBe(400)
    const badPage = await bad.text()
    expect(badPage).toContain('The country is a two-letter code')
    expect(badPage).toContain('value="Imprimeur Martin"')
    const http = await t.b.post(`/admin/compliance/processors/${id}?lang=en`, {
      _csrf: t.csrf,
      name: 'Imprimeur',
      role: 'processor',
      country: 'FR',
      webhook_url: 'ftp://printer.example.test',
    })
    expect(http.status).toBe(400)
    expect(await http.text()).toContain('The webhook URL must be an https:// address.')

    const saved = await postPairs(t, `/admin/compliance/processors/${id}`, [
      ['name', 'Imprimeur Martin'],
      ['role', 'sub_processor'],
      ['country', 'BE'],
      ['data_categories', 'identity'],
      ['data_categories', 'contact'],
      ['contract_signed_at', '2025-06-01'],
      ['last_review_at', '2026-06-01'],
      ['webhook_url', ''],
      ['notify_rights', 'on'],
      ['notes', 'envoie les cartes de vœux'],
    ])
    expect(saved.status).toBe(303)
    expect(t.sqlite.prepare('SELECT * FROM processors').get()).toMatchObject({
      name: 'Imprimeur Martin',
      role: 'sub_processor',
      country: 'BE',
      notes: 'envoie les cartes de vœux',
      data_categories: '["identity","contact"]',
    })
    expect(
      (await t.b.post(`/admin/compliance/processors/${id}/archive`, { _csrf: t.csrf })).status,
    ).toBe(303)
    const list = await html(await t.b.get('/admin/compliance/processors?lang=en'))
    expect(list).not.toContain('Imprimeur Martin')
    expect(await html(await t.b.get('/admin/compliance/processors?archived=true'))).toContain(
      'Imprimeur Martin',
    )
    expect(
      (await t.b.post(`/admin/compliance/processors/${id}/restore`, { _csrf: t.csrf })).status,
    ).toBe(303)
    expect(t.audits('processor.update')).toHaveLength(1)
    expect(t.audits('processor.archive')).toHaveLength(1)
    expect(t.audits('processor.restore')).toHaveLength(1)
  })
})

describe('console: recipients (Art. 19)', () => {
  it('shows a request’s recipients, a task with its personal data behind contacts.personal, and marks it done', async () => {
    const t = await setup()
    const printer = await createProcessor(t.deps, {
      name: 'Print shop',
      role: 'processor',
      country: 'BE',
    })
    if (!printer.ok) throw new Error('processor')
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['cookies'],
      attributes: { first_name: 'Ane' },
    })
    if (!r.ok) throw new Error(r.message)
    await correctContact(t.deps, (await findContact(t.deps, r.contactId))!, {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    const [task] = await listRecipientNotices(t.deps, { channel: 'task', open: true })
    const requestId = task!.request_id!

    const panel = await html(await t.b.get(`/admin/requests/${requestId}/recipients?lang=en`))
    expect(panel).toContain('<h1>Recipients of the request</h1>')
    expect(panel).toContain('Print shop')
    expect(panel).toContain('Status: to do')
    expect(panel).not.toContain('anne@exemple.fr')
    const panelFr = await html(await t.b.get(`/admin/requests/${requestId}/recipients?lang=fr`))
    expect(panelFr).toContain('État\u00a0: à faire')

    const tasks = await html(await t.b.get('/admin/compliance/tasks?lang=fr'))
    expect(tasks).toContain('<h1>Tâches pour les destinataires</h1>')
    expect(tasks).toContain('rectification')
    expect(tasks).not.toContain('anne@exemple.fr')

    const opened = await t.b.get(`/admin/compliance/tasks/${task!.id}?lang=en`)
    expect(opened.headers.get('cache-control')).toBe('no-store')
    const page = await html(opened)
    expect(page).toContain('anne@exemple.fr')
    expect(page).toContain('<code>first_name</code></dt><dd class="address">Anne</dd>')
    expect(t.audits('recipient_task.open')).toHaveLength(1)

    const done = await t.b.post(`/admin/compliance/tasks/${task!.id}/done?lang=en`, {
      _csrf: t.csrf,
      note: 'sent to their DPO',
    })
    expect(done.status).toBe(303)
    expect(await html(await t.b.get(done.headers.get('location')!))).toContain(
      'Nothing to pass on by hand.',
    )
    const forgotten = await html(await t.b.get(`/admin/compliance/tasks/${task!.id}?lang=en`))
    expect(forgotten).not.toContain('anne@exemple.fr')
    expect(forgotten).toContain('Whom it was about is no longer kept.')
    expect(t.audits('recipient_task.open')).toHaveLength(1) // nothing personal opened the second time
    const [entry] = t.audits('recipient_task.done')
    expect(entry).toMatchObject({ actor: `admin:${t.dpo.id}`, target: `notice:${task!.id}` })
    expect(await html(await t.b.get(`/admin/requests/${requestId}/recipients?lang=en`))).toContain(
      'Status: done',
    )
    const twice = await t.b.post(`/admin/compliance/tasks/${task!.id}/done`, { _csrf: t.csrf })
    expect(twice.status).toBe(409)
  })
})

describe('console: breaches and the 72-hour clock', () => {
  it('shows the clock on the register, the incident and every console page while it is open', async () => {
    const t = await setup()
    const viewer = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'viewer'))
    const marketer = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'marketer'))
    t.clock.set(Math.ceil(t.clock.now() / 60_000) * 60_000) // a whole minute, as the form takes
    const detected = new Date(t.clock.now() - 50 * HOUR).toISOString().slice(0, 16)
    const res = await t.b.post('/admin/compliance/incidents?lang=en', {
      _csrf: t.csrf,
      title: 'Laptop stolen',
      detected_at: detected,
      description: 'An unencrypted export of 300 contacts',
      nature: 'confidentiality',
      data_categories: 'contact',
      people_affected: '300',
      records_affected: '',
      measures: '',
    })
    expect(res.status).toBe(303)
    const id = (t.sqlite.prepare('SELECT id FROM incidents').get() as { id: string }).id
    expect(res.headers.get('location')).toBe(
      `/admin/compliance/incidents/${id}?done=created&lang=en`,
    )
    const page = await html(await t.b.get(`/admin/compliance/incidents/${id}?lang=en`))
    expect(page).toContain(
      '<p class="clock clock-warning"><strong>72-hour clock:</strong> 50\u00a0h since detection; 22\u00a0h 0\u00a0min left',
    )
    expect(page).toContain('Personal data breaches open: 1')
    const fr = await html(await t.b.get(`/admin/compliance/incidents?lang=fr`))
    expect(fr).toContain('50\u00a0h depuis la détection')

    // The banner on every screen for the roles that read the register; not for the others.
    for (const path of ['/admin?lang=en', '/admin/account?lang=en', '/admin/audit?lang=en'])
      expect(await html(await t.b.get(path))).toContain(
        'Laptop stolen</a> — <span class="clock-warning">',
      )
    expect(await html(await viewer.get('/admin?lang=en'))).toContain(
      'Personal data breaches open: 1',
    )
    expect(await html(await marketer.get('/admin?lang=en'))).not.toContain('Laptop stolen')
    expect(await html(await viewer.get(`/admin/compliance/incidents/${id}?lang=en`))).not.toContain(
      'Record the assessment',
    )

    // Past 72 hours: overdue, and a notification needs its reasons.
    t.clock.advance(23 * HOUR)
    const b = await signIn(t.app, t.deps, t.dpo) // the earlier session timed out meanwhile
    const csrf = await b.csrf()
    expect(await html(await b.get('/admin?lang=en'))).toContain(
      'OVERDUE: 73\u00a0h since detection',
    )
    const assessed = await b.post(`/admin/compliance/incidents/${id}/assessment`, {
      _csrf: csrf,
      risk: 'risk',
      assessment: 'Addresses only, no passwords',
    })
    expect(assessed.status).toBe(303)
    const late = await b.post(`/admin/compliance/incidents/${id}/authority?lang=en`, {
      _csrf: csrf,
      notified_at: '',
      reference: 'CNIL-2026-42',
      delay_reason: '',
    })
    expect(late.status).toBe(400)
    const latePage = await late.text()
    expect(latePage).toContain('More than 72 hours have passed since detection')
    expect(latePage).toContain('value="CNIL-2026-42"')
    const notified = await b.post(`/admin/compliance/incidents/${id}/authority?lang=en`, {
      _csrf: csrf,
      notified_at: '',
      reference: 'CNIL-2026-42',
      delay_reason: 'The theft was reported to us late',
    })
    expect(notified.status).toBe(303)
    const stopped = await html(await b.get(`/admin/compliance/incidents/${id}?lang=en`))
    expect(stopped).toContain('Stopped: the authority was notified 73\u00a0h after detection.')
    expect(stopped).toContain('That was after the 72-hour deadline.')
    expect(
      (
        await b.post(`/admin/compliance/incidents/${id}/people`, {
          _csrf: csrf,
          notified: 'yes',
          notice: 'E-mail to the 300 people on 2 December',
        })
      ).status,
    ).toBe(303)
    expect(
      (
        await postPairs({ ...t, b, csrf }, `/admin/compliance/incidents/${id}/facts`, [
          ['title', 'Laptop stolen from a car'],
          ['nature', 'confidentiality'],
          ['nature', 'availability'],
          ['people_affected', '310'],
        ])
      ).status,
    ).toBe(303)
    expect(
      (
        await b.post(`/admin/compliance/incidents/${id}/close`, {
          _csrf: csrf,
          measures: 'Disk encryption on every laptop',
        })
      ).status,
    ).toBe(303)
    expect(t.sqlite.prepare('SELECT * FROM incidents').get()).toMatchObject({
      title: 'Laptop stolen from a car',
      people_affected: 310,
      authority_reference: 'CNIL-2026-42',
      measures: 'Disk encryption on every laptop',
      created_by: `admin:${t.dpo.id}`,
    })
    expect(await html(await b.get('/admin?lang=en'))).not.toContain('Personal data breaches open')
    for (const action of [
      'incident.create',
      'incident.assess',
      'incident.authority_notified',
      'incident.people_notified',
      'incident.update',
      'incident.close',
    ])
      expect([action, t.audits(action).length]).toEqual([action, 1])
    const closed = await b.post(`/admin/compliance/incidents/${id}/assessment`, {
      _csrf: csrf,
      risk: 'high',
      assessment: 'again',
    })
    expect(closed.status).toBe(409)
  })

  it('refuses a detection time in the future or malformed, keeping what was typed', async () => {
    const t = await setup()
    const future = new Date(t.clock.now() + HOUR).toISOString().slice(0, 16)
    const res = await t.b.post('/admin/compliance/incidents?lang=fr', {
      _csrf: t.csrf,
      title: 'Serveur exposé',
      detected_at: future,
    })
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('Cette heure est dans le futur.')
    expect(page).toContain('value="Serveur exposé"')
    const bad = await t.b.post('/admin/compliance/incidents?lang=en', {
      _csrf: t.csrf,
      title: 'x',
      detected_at: 'yesterday',
    })
    expect(bad.status).toBe(400)
    expect(t.sqlite.prepare('SELECT COUNT(*) AS n FROM incidents').get()).toEqual({ n: 0 })
  })
})

describe('console: proof bundles', () => {
  async function stepUp(t: T, admin: TestAdmin, next: string) {
    t.clock.advance(30_000)
    return t.b.post('/admin/step-up', {
      _csrf: await t.b.csrf('/admin/step-up'),
      next,
      code: totpCode(admin.totpSecret!, t.clock.now()),
    })
  }

  it('asks for a fresh second factor, then makes a bundle that verifies offline; audited', async () => {
    const t = await setup()
    for (const email of ['a@exemple.fr', 'b@exemple.fr']) {
      const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes: ['cookies'] })
      if (!r.ok) throw new Error(r.message)
    }
    t.clock.advance(6 * 60_000) // the sign-in's second factor is no longer fresh
    const asked = await t.b.get('/admin/compliance/bundles')
    expect(asked.status).toBe(303)
    expect(asked.headers.get('location')).toBe(
      '/admin/step-up?next=%2Fadmin%2Fcompliance%2Fbundles',
    )
    const refused = await t.b.post('/admin/compliance/bundles', { _csrf: t.csrf })
    expect(refused.status).toBe(303)
    expect(t.sqlite.prepare('SELECT COUNT(*) AS n FROM proof_bundles').get()).toEqual({ n: 0 })
    expect((await stepUp(t, t.dpo, '/admin/compliance/bundles')).headers.get('location')).toBe(
      '/admin/compliance/bundles',
    )

    const en = await html(await t.b.get('/admin/compliance/bundles?lang=en'))
    expect(en).toContain('<h1>Proof bundles</h1>')
    expect(en).toContain('<option value="cookies">cookies</option>')
    expect(en).toContain('action="/admin/audit/verify?lang=en"') // the audit screen's verification
    const fr = await html(await t.b.get('/admin/compliance/bundles?lang=fr'))
    expect(fr).toContain('<h1>Dossiers de preuve</h1>')
    const wrong = await t.b.post('/admin/compliance/bundles?lang=en', {
      _csrf: t.csrf,
      purpose: 'cookies',
      from: '2027-01-01',
      to: '2026-01-01',
      fresh_checkpoint: 'on',
    })
    expect(wrong.status).toBe(400)
    expect(await wrong.text()).toContain('The start must come before the end.')

    const made = await t.b.post('/admin/compliance/bundles?lang=en', {
      _csrf: t.csrf,
      purpose: 'cookies',
      from: '',
      to: '',
      fresh_checkpoint: 'on',
    })
    expect(made.status).toBe(303)
    const id = (t.sqlite.prepare('SELECT id FROM proof_bundles').get() as { id: string }).id
    const page = await html(await t.b.get(made.headers.get('location')!))
    expect(page).toContain('Bundle ready: download it.')
    expect(page).toContain(`href="/admin/compliance/bundles/${id}/download"`)
    expect(page).toContain('verify-bundle')

    const file = await t.b.get(`/admin/compliance/bundles/${id}/download`)
    expect(file.headers.get('content-disposition')).toBe(
      `attachment; filename="proof-bundle-${id}.jsonl"`,
    )
    const text = await file.text()
    const jwks = (await (await t.app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet
    const verifier = bundleVerifier(jwks)
    for (const line of text.split('\n')) await verifier.line(line)
    expect(await verifier.finish()).toMatchObject({ ok: true, events: 2, contacts: 2 })
    expect(t.audits('proof_bundle.create')).toHaveLength(1)
    expect(t.audits('proof_bundle.download')).toHaveLength(1)

    // Five minutes later the download asks for the second factor again.
    t.clock.advance(6 * 60_000)
    expect((await t.b.get(`/admin/compliance/bundles/${id}/download`)).status).toBe(303)
  })
})

describe('console: compliance roles and languages', () => {
  it('shows the screens read-only to a viewer, and none to a marketer', async () => {
    const t = await setup()
    const viewer = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'viewer'))
    const marketer = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'marketer'))
    const overview = await html(await viewer.get('/admin/compliance?lang=en'))
    expect(overview).toContain('<a href="/admin/compliance" aria-current="page">Compliance</a>')
    expect(overview).toContain('Data inventory')
    expect(overview).not.toContain('Proof bundles') // exports.personal
    expect(overview).not.toContain('Recipient tasks') // requests.manage
    expect(overview).not.toContain('Verify the ledger') // ledger.verify
    const fields = await html(await viewer.get('/admin/compliance/fields?lang=en'))
    expect(fields).not.toContain('Import the fields now')
    expect(await html(await viewer.get('/admin/compliance/processors?lang=en'))).not.toContain(
      'Register a processor',
    )
    expect((await viewer.get('/admin/compliance/processors/new')).status).toBe(403)
    expect((await viewer.get('/admin/compliance/tasks')).status).toBe(403)
    expect((await viewer.get('/admin/compliance/bundles')).status).toBe(403)
    expect(
      (await viewer.post('/admin/compliance/fields/import', { _csrf: await viewer.csrf() })).status,
    ).toBe(403)
    expect(await html(await marketer.get('/admin?lang=en'))).not.toContain('/admin/compliance')
    expect((await marketer.get('/admin/compliance')).status).toBe(403)
    expect((await marketer.get('/admin/compliance/record.csv')).status).toBe(403)

    const dpo = await html(await t.b.get('/admin/compliance?lang=fr'))
    expect(dpo).toContain('<h1>Conformité</h1>')
    for (const section of [
      'Dossiers de preuve',
      'Tâches destinataires',
      'Registre des traitements',
    ])
      expect(dpo).toContain(section)
    expect(dpo).toContain('Vérifier le registre et le journal d’audit')
  })

  it('has the same keys in French and English', () => {
    expect(Object.keys(adminComplianceFr).sort()).toEqual(Object.keys(adminComplianceEn).sort())
  })
})
