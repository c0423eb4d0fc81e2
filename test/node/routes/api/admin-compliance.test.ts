// The admin API of compliance (/api/v1/admin/…): an admin key reaches it, other keys do not; each
// operation declares the permission the console's roles will check; the inventory, the risk report,
// the record of processing activities (GDPR Art. 30) as JSON and CSV, processors, incidents.
import { describe, expect, it } from 'vitest'
import { api, apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'
import { PERMISSIONS } from '../../../../src/domain/admin/permissions.ts'

async function setup() {
  const t = await testApp({ ORG_NAME: 'ACME', DPO_EMAIL: 'dpo@acme.test' })
  const key = await apiKey(t.deps, ['admin'])
  return { ...t, key, admin: api(t.app, key) }
}

const req = (t: Awaited<ReturnType<typeof setup>>, method: string, path: string, body?: unknown) =>
  t.app.request(path, {
    method,
    headers: { Authorization: `Bearer ${t.key}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })

describe('admin API: compliance', () => {
  it('declares a known permission on every admin operation, and refuses keys without the admin scope', async () => {
    const t = await setup()
    const doc = (await (await t.app.request('/api/v1/openapi.json')).json()) as {
      paths: Record<string, Record<string, { 'x-permission'?: string; 'x-scope': string }>>
    }
    const admin = Object.entries(doc.paths).filter(([p]) => p.startsWith('/admin/'))
    expect(admin.length).toBeGreaterThanOrEqual(10)
    for (const [path, ops] of admin)
      for (const [method, op] of Object.entries(ops)) {
        expect(op['x-permission'], `${method} ${path}`).toBeDefined()
        expect(Object.keys(PERMISSIONS)).toContain(op['x-permission'])
        expect(op['x-scope']).toBe('admin')
      }
    expect(doc.paths['/admin/proof-bundles']!.post!['x-permission']).toBe('exports.personal')
    expect(doc.paths['/admin/ledger/verify']!.post).toBeDefined()
    expect(doc.paths['/admin/incidents']!.get!['x-permission']).toBe('compliance.read')
    expect(doc.paths['/admin/incidents']!.post!['x-permission']).toBe('compliance.manage')

    expect((await t.app.request('/api/v1/admin/compliance/fields')).status).toBe(401)
    const site = await apiKey(t.deps, ['subscribe', 'consents:read'])
    const res = await api(t.app, site).get('/api/v1/admin/compliance/fields')
    expect(res.status).toBe(403)
  })

  it('imports the fields, confirms one, and serves the risk report and the record as JSON and CSV', async () => {
    const t = await setup()
    const imported = await t.admin.post('/api/v1/admin/compliance/fields/import')
    expect(imported.body).toMatchObject({ gateway: { added: 14 }, mautic: null })
    const pending = await t.admin.get(
      '/api/v1/admin/compliance/fields?status=pending&source=gateway',
    )
    const fields = pending.body.fields as { id: string; name: string }[]
    expect(fields).toHaveLength(14)
    expect(
      (await t.admin.get('/api/v1/admin/compliance/fields?status=nope')).body.error!.code,
    ).toBe('invalid_status')

    const proc = await t.admin.post('/api/v1/admin/processors', {
      name: 'Mailer Inc.',
      role: 'processor',
      country: 'us',
      transfer_basis: 'scc',
      contract_signed_at: '2026-01-15',
      webhook_url: 'https://mailer.example.test/gdpr',
    })
    expect(proc.status).toBe(201)
    expect(proc.body).toMatchObject({
      country: 'US',
      third_country: true,
      rights_channel: 'webhook',
    })
    expect(proc.body.webhook_secret).toMatch(/^whsec_/)
    expect((await t.admin.get(`/api/v1/admin/processors/${proc.body.id}`)).body).not.toHaveProperty(
      'webhook_secret',
    )
    expect(
      (
        await t.admin.post('/api/v1/admin/processors', {
          name: 'x',
          role: 'processor',
          country: 'France',
        })
      ).body.error!.code,
    ).toBe('invalid_country')

    const email = fields.find((f) => f.name === 'email')!
    const put = await req(t, 'PUT', `/api/v1/admin/compliance/fields/${email.id}`, {
      category: 'contact',
      purpose: 'newsletter',
      legal_basis: 'consent',
      retention_days: 1095,
      processors: [proc.body.id],
    })
    expect(put.status).toBe(200)
    expect(await put.json()).toMatchObject({ status: 'confirmed', processors: [proc.body.id] })
    expect(
      (await req(t, 'PUT', `/api/v1/admin/compliance/fields/${email.id}`, { category: 'secret' }))
        .status,
    ).toBe(400)

    const risks = await t.admin.get('/api/v1/admin/compliance/risks')
    const kinds = (risks.body.findings as { kind: string; severity: string }[]).map((f) => f.kind)
    expect(kinds).toContain('field_unconfirmed')
    expect(kinds).toContain('processor_review_overdue')
    expect(kinds).not.toContain('processor_no_contract')
    expect((risks.body.findings as { severity: string }[])[0]!.severity).toBe('medium') // no high one open

    const record = await t.admin.get('/api/v1/admin/compliance/record-of-processing?locale=en')
    expect(record.body).toMatchObject({
      controller: { name: 'ACME', dpo_email: 'dpo@acme.test' },
      unconfirmed_fields: 13,
    })
    const newsletter = (record.body.activities as any[]).find((a) => a.purpose === 'newsletter')
    expect(newsletter).toMatchObject({
      legal_bases: ['consent'],
      data_categories: ['contact'],
      fields: [{ name: 'email', source: 'gateway' }],
      recipients: [{ name: 'Mailer Inc.', country: 'US', transfer_basis: 'scc' }],
      transfers: [{ processor: 'Mailer Inc.', country: 'US', basis: 'scc' }],
      retention_days: [1095],
      consent_purpose: { key: 'newsletter', channel: 'email', double_opt_in: true },
    })
    const csv = await t.app.request(
      '/api/v1/admin/compliance/record-of-processing?format=csv&locale=fr',
      {
        headers: { Authorization: `Bearer ${t.key}` },
      },
    )
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    const rows = (await csv.text()).replace(/^\uFEFF/, '').split('\r\n')
    expect(rows[0]).toBe(
      'Responsable du traitement,Délégué à la protection des données,Finalité du traitement,Bases légales,Catégories de personnes concernées,Catégories de données,Catégories particulières (condition de l’art. 9),Champs,Destinataires,Transferts hors EEE (garantie),Durées de conservation,Mesures de sécurité',
    )
    expect(rows.find((r) => r.startsWith('ACME,dpo@acme.test,newsletter,'))).toContain(
      'Consentement (art. 6(1)(a)),"Contacts : prospects, abonnés et clients",Coordonnées,,email,Mailer Inc. (US),Mailer Inc. (US: scc),1095 jours,',
    )
  })

  it('keeps the breach register, each answer with its clock', async () => {
    const t = await setup()
    const created = await t.admin.post('/api/v1/admin/incidents', {
      title: 'Phishing',
      detected_at: new Date(t.clock.now() - 3_600_000).toISOString(),
      nature: ['confidentiality'],
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({
      stage: 'detected',
      clock: { hours_elapsed: 1, stopped: false },
    })
    const id = created.body.id as string
    expect(
      (
        await t.admin.post(`/api/v1/admin/incidents/${id}/assessment`, {
          risk: 'risk',
          assessment: 'mailbox read',
        })
      ).body,
    ).toMatchObject({ stage: 'assessed', risk: 'risk' })
    expect(
      (
        await t.admin.post(`/api/v1/admin/incidents/${id}/authority-notification`, {
          reference: 'CNIL-1',
        })
      ).body,
    ).toMatchObject({ stage: 'authority_notified', clock: { stopped: true } })
    expect((await t.admin.get('/api/v1/admin/incidents')).body.incidents).toHaveLength(1)
    expect((await t.admin.post(`/api/v1/admin/incidents/${id}/close`, {})).body).toMatchObject({
      stage: 'closed',
    })
    expect((await t.admin.get('/api/v1/admin/incidents')).body.incidents).toHaveLength(0)
    expect((await t.admin.get('/api/v1/admin/incidents?status=all')).body.incidents).toHaveLength(1)
    expect((await t.admin.post('/api/v1/admin/incidents', { title: '' })).body.error!.code).toBe(
      'missing_title',
    )
    expect((await t.admin.post('/api/v1/admin/ledger/verify', {})).body).toMatchObject({ ok: true })
  })
})
