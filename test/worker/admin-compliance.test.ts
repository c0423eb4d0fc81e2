// The console's compliance screens inside workerd on D1 (README "Compliance"): a DPO signs in, imports
// the gateway's fields, confirms a special-category suggestion, reads the risk report and the record
// of processing (page and CSV), registers a processor with a webhook (the secret shown once), records a
// breach whose clock shows on the breach and in the banner, and downloads a proof bundle that verifies
// with the published keys: the same pages as on Node, rendered by the Worker.
import { env, SELF } from 'cloudflare:test'
import type { JSONWebKeySet } from 'jose'
import { describe, expect, it } from 'vitest'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { bundleVerifier } from '../../src/domain/compliance/bundle-verify.ts'
import { addManualField } from '../../src/domain/compliance/inventory.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import { makeAdmin } from '../helpers/admin.ts'
import { consoleClient, ORIGIN } from './console-client.ts'

const client = consoleClient

describe('compliance screens on Workers (workerd + D1)', () => {
  it('renders the inventory, risks, record, processors, a breach with its clock and a proof bundle', async () => {
    const { deps } = await forEnv(env)
    // Fewer iterations to make the account; the Worker raises them at sign-in.
    const dpo = await makeAdmin({ ...deps, pbkdf2Iterations: 1000 }, 'dpo')
    const r = await subscribe(
      { ...deps, clock: { now: () => Date.now() - 120_000 } },
      {
        email: 'w.compliance@exemple.fr',
        purposes: ['cookies'],
        locale: 'fr',
        method: 'api',
        source: 'worker-test',
        actor: 'api:test',
        evidence: { ip: '198.51.100.7' },
      },
    )
    expect(r.ok).toBe(true)
    const b = client()
    expect(
      (await b.post('/admin/sign-in', { email: dpo.email, password: dpo.password })).status,
    ).toBe(303)
    const signedIn = await b.post('/admin/sign-in/second-factor', {
      _csrf: await b.csrf('/admin/sign-in/second-factor'),
      code: totpCode(dpo.totpSecret!, Date.now() + 30_000),
    })
    expect(signedIn.status).toBe(303)
    const csrf = await b.csrf('/admin/account')

    const overview = await b.get('/admin/compliance?lang=fr')
    expect(overview.status).toBe(200)
    expect(await overview.text()).toContain('<h1>Conformité</h1>')

    // The inventory: the gateway's fields, and a field held elsewhere that says health.
    const imported = await b.post('/admin/compliance/fields/import?lang=en', { _csrf: csrf })
    expect(imported.status).toBe(200)
    const importedPage = await imported.text()
    expect(importedPage).toContain('Gateway: 14 added')
    expect(importedPage).toContain('Mautic is not connected')
    const field = await addManualField(deps, {
      name: 'dossier_medical',
      label: 'Dossier médical',
      type: 'text',
    })
    if (!field.ok) throw new Error(field.message)
    const fieldPage = await (
      await b.get(`/admin/compliance/fields/${field.field.id}?lang=en`)
    ).text()
    expect(fieldPage).toContain('Art. 9 special category · health')
    expect(fieldPage).toContain('Because the word “medical” appears in its name or label.')
    const confirmed = await b.post(`/admin/compliance/fields/${field.field.id}?lang=en`, {
      _csrf: csrf,
      category: 'special',
      purpose: 'care',
      legal_basis: 'consent',
      retention_days: '365',
      special_condition: 'Art. 9(2)(a) explicit consent',
    })
    expect(confirmed.status).toBe(303)
    expect(await (await b.get(confirmed.headers.get('location')!)).text()).toContain(
      'Classification confirmed.',
    )

    const risks = await (await b.get('/admin/compliance/risks?lang=en')).text()
    expect(risks).toContain('<h1>Risk report</h1>')
    expect(risks).toContain('Field not confirmed by a person')
    const record = await (await b.get('/admin/compliance/record?lang=en')).text()
    expect(record).toContain('Purpose: care')
    expect(record).toContain('<code>dossier_medical</code>')
    const csv = await b.get('/admin/compliance/record.csv?lang=fr')
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(await csv.text()).toContain('Responsable du traitement')

    // A processor with a webhook: the secret on its own page, once.
    const processor = await b.post('/admin/compliance/processors?lang=en', {
      _csrf: csrf,
      name: 'CRM on Workers',
      role: 'processor',
      country: 'FR',
      webhook_url: 'https://crm.example.test/gdpr',
      notify_rights: 'on',
    })
    expect(processor.status).toBe(200)
    expect(await processor.text()).toMatch(/value="whsec_[^"]+"/)

    // A breach detected 10 hours ago: its clock, and the banner on the dashboard.
    const detected = new Date(Date.now() - 10 * 3_600_000).toISOString().slice(0, 16)
    const incident = await b.post('/admin/compliance/incidents?lang=en', {
      _csrf: csrf,
      title: 'Backup exposed',
      detected_at: detected,
      nature: 'confidentiality',
    })
    expect(incident.status).toBe(303)
    const incidentPage = await (await b.get(incident.headers.get('location')!)).text()
    expect(incidentPage).toMatch(
      /72-hour clock:<\/strong> 1[01]\u00a0h since detection; 6[12]\u00a0h/,
    )
    expect(await (await b.get('/admin?lang=en')).text()).toContain('Personal data breaches open: 1')

    // A proof bundle (the sign-in's second factor is fresh), streamed by the Worker.
    const bundle = await b.post('/admin/compliance/bundles?lang=en', {
      _csrf: csrf,
      purpose: 'cookies',
      fresh_checkpoint: 'on',
    })
    expect(bundle.status).toBe(303)
    const id = /\/admin\/compliance\/bundles\/([^?]+)/.exec(bundle.headers.get('location')!)![1]!
    const file = await b.get(`/admin/compliance/bundles/${id}/download`)
    expect(file.status).toBe(200)
    const text = new TextDecoder().decode(await file.arrayBuffer())
    const jwks = (await (
      await SELF.fetch(`${ORIGIN}/.well-known/jwks.json`)
    ).json()) as JSONWebKeySet
    const verifier = bundleVerifier(jwks)
    for (const line of text.split('\n')) await verifier.line(line)
    expect(await verifier.finish()).toMatchObject({ ok: true, events: 1, contacts: 1 })
  })
})
