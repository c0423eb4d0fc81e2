// The operations screens of the console and their admin API: every screen in French and English, the
// findings closed with a reason, the checks run on demand, the quarterly review signed off, the
// retention dry run and a run (a fresh second factor), backups recorded; what a viewer may not do.
import { describe, expect, it } from 'vitest'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { quarterOf, REVIEW_ITEMS } from '../../../../src/domain/operations/review.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { API_CONSENT, TEST_NOW, testApp } from '../../../helpers/deps.ts'

const SCREENS = [
  '/admin/operations',
  '/admin/operations/findings',
  '/admin/operations/findings?status=all&kind=backup_stale',
  '/admin/operations/retention',
  '/admin/operations/retention/preview',
  '/admin/operations/review',
  '/admin/operations/reconsent',
  '/admin/operations/backups',
]

async function setup() {
  const t = await testApp(
    { BACKUP_MAX_AGE_HOURS: '26', ORG_NAME: 'ACME' },
    { pbkdf2Iterations: TEST_ITERATIONS },
  )
  const dpo = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'dpo'))
  const viewer = await signIn(t.app, t.deps, await makeAdmin(t.deps, 'viewer'))
  const csrf = await dpo.csrf('/admin/operations/findings')
  const rows = (sql: string, ...p: unknown[]) => t.sqlite.prepare(sql).all(...p) as any[]
  return { ...t, dpo, viewer, csrf, rows }
}

describe('the operations screens', () => {
  it.each(['fr', 'en'])('render in %s, linked from the navigation', async (lang) => {
    const t = await setup()
    t.clock.set(TEST_NOW - 4 * 365 * 86_400_000)
    await subscribe(t.deps, { ...API_CONSENT, email: 'old@exemple.fr', purposes: ['cookies'] })
    t.clock.set(TEST_NOW)
    await t.dpo.post('/admin/operations/monitor/run', { _csrf: t.csrf })
    for (const path of SCREENS) {
      const res = await t.dpo.get(`${path}${path.includes('?') ? '&' : '?'}lang=${lang}`)
      expect([path, res.status]).toEqual([path, 200])
      const html = await res.text()
      expect(html).toContain(`<html lang="${lang}">`)
      expect(html).toContain('href="/admin/operations"')
      expect(html).not.toMatch(/ops\.[a-z]+\.[a-zA-Z.]+/) // every string found in the locale files
    }
    const findings = await (await t.dpo.get(`/admin/operations/findings?lang=${lang}`)).text()
    expect(findings).toContain(lang === 'fr' ? 'Sauvegarde trop ancienne' : 'Backup too old')
    const preview = await (
      await t.dpo.get(`/admin/operations/retention/preview?lang=${lang}`)
    ).text()
    expect(preview).toContain(t.rows('SELECT id FROM contacts')[0].id)
  })

  it('closes a finding with its reason (audited); a viewer sees it but may not close it', async () => {
    const t = await setup()
    await t.dpo.post('/admin/operations/monitor/run', { _csrf: t.csrf })
    const [f] = t.rows("SELECT id FROM compliance_findings WHERE kind = 'backup_stale'")
    const viewerPage = await (await t.viewer.get('/admin/operations/findings?lang=en')).text()
    expect(viewerPage).toContain('Backup too old')
    expect(viewerPage).not.toContain(`/admin/operations/findings/${f.id}/close`)
    const vcsrf = await t.viewer.csrf('/admin/operations/findings')
    expect(
      (
        await t.viewer.post(`/admin/operations/findings/${f.id}/close`, {
          _csrf: vcsrf,
          resolution: 'x',
        })
      ).status,
    ).toBe(403)
    expect(
      (
        await t.dpo.post(`/admin/operations/findings/${f.id}/close`, {
          _csrf: t.csrf,
          resolution: '',
        })
      ).status,
    ).toBe(400)
    const closed = await t.dpo.post(`/admin/operations/findings/${f.id}/close`, {
      _csrf: t.csrf,
      resolution: 'backup scheduled in cron',
    })
    expect(closed.status).toBe(200)
    expect(t.rows('SELECT resolution FROM compliance_findings WHERE id = ?', f.id)).toEqual([
      { resolution: 'backup scheduled in cron' },
    ])
    expect(t.rows("SELECT target FROM audit_log WHERE action = 'finding.close'")).toEqual([
      { target: `finding:${f.id}` },
    ])
  })

  it('signs the quarterly review off only with every item ticked', async () => {
    const t = await setup()
    const q = quarterOf(TEST_NOW).id
    const partial = await t.dpo.post('/admin/operations/review', {
      _csrf: t.csrf,
      quarter: q,
      items: 'ledger',
    })
    expect(partial.status).toBe(400)
    const form = new URLSearchParams({ _csrf: t.csrf, quarter: q, notes: 'All good.' })
    for (const item of REVIEW_ITEMS) form.append('items', item)
    const res = await t.app.request('http://gateway.test/admin/operations/review?lang=en', {
      method: 'POST',
      headers: {
        Cookie: t.dpo.cookie,
        Origin: 'http://gateway.test',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(`${q} is signed off.`)
    expect(t.rows('SELECT quarter, signed_role, notes FROM compliance_reviews')).toEqual([
      { quarter: q, signed_role: 'dpo', notes: 'All good.' },
    ])
  })

  it('runs a retention pass from the console after a fresh second factor', async () => {
    const t = await setup()
    t.clock.set(TEST_NOW - 4 * 365 * 86_400_000)
    await subscribe(t.deps, { ...API_CONSENT, email: 'old@exemple.fr', purposes: ['cookies'] })
    t.clock.set(TEST_NOW)
    const ran = await t.dpo.post('/admin/operations/retention/run', { _csrf: t.csrf })
    expect(ran.status).toBe(200)
    expect(t.rows('SELECT status FROM contacts')).toEqual([{ status: 'erased' }])
    expect(t.rows('SELECT trigger, status, contacts_erased FROM retention_runs')).toEqual([
      { trigger: 'admin', status: 'done', contacts_erased: 1 },
    ])
    // Later, without a fresh second factor: asked for one first.
    t.clock.advance(10 * 60_000)
    const stale = await t.dpo.post('/admin/operations/retention/run', { _csrf: t.csrf })
    expect(stale.status).toBe(303)
    expect(stale.headers.get('location')).toMatch(/^\/admin\/step-up/)
  })

  it('records a backup taken elsewhere', async () => {
    const t = await setup()
    const res = await t.dpo.post('/admin/operations/backups', {
      _csrf: t.csrf,
      kind: 'd1_export',
      location: 's3://backups/d1-2026-11-29.sql',
      taken_on: '2026-11-29',
    })
    expect(res.status).toBe(200)
    expect(t.rows('SELECT kind, location, recorded_by FROM backups')).toMatchObject([
      { kind: 'd1_export', location: 's3://backups/d1-2026-11-29.sql' },
    ])
  })
})

describe('the operations admin API', () => {
  it('status, findings, monitor, review, backups and retention for an admin key', async () => {
    const t = await setup()
    const admin = api(t.app, await apiKey(t.deps, ['admin']))
    const ran = await admin.post('/api/v1/admin/monitor/run', {})
    expect(ran.body).toMatchObject({ opened: 1, failed: [] })
    const status = await admin.get('/api/v1/admin/operations/status')
    expect(status.body).toMatchObject({
      findings_open: { backup_stale: 1, dsr_overdue: 0 },
      requests: { open: 0, overdue: 0 },
      outbox: { dead: 0 },
      backup: { last: null, max_age_hours: 26, stale: true },
      retention: { inactive_days: 1095, last_run: null },
    })
    const list = await admin.get('/api/v1/admin/findings?kind=backup_stale')
    const id = (list.body.findings as any[])[0].id
    expect((await admin.get('/api/v1/admin/findings?status=nope')).status).toBe(400)
    expect((await admin.post(`/api/v1/admin/findings/${id}/close`, {})).status).toBe(400)
    expect(
      (await admin.post(`/api/v1/admin/findings/${id}/close`, { resolution: 'ok' })).body,
    ).toEqual({ closed: true })
    expect(
      (await admin.post(`/api/v1/admin/findings/${id}/close`, { resolution: 'ok' })).status,
    ).toBe(409)

    const recorded = await admin.post('/api/v1/admin/backups', {
      kind: 'd1_export',
      location: 'd1.sql',
      size_bytes: 1234,
    })
    expect(recorded.status).toBe(201)
    expect((await admin.get('/api/v1/admin/backups')).body).toMatchObject({
      status: { stale: false, last: { kind: 'd1_export', size_bytes: 1234 } },
    })
    expect(
      (await admin.post('/api/v1/admin/backups', { kind: 'tape', location: 'x' })).status,
    ).toBe(400)

    const q = quarterOf(TEST_NOW).id
    expect(
      (await admin.post('/api/v1/admin/reviews', { quarter: q, items: ['ledger'] })).body.error,
    ).toMatchObject({ code: 'incomplete' })
    expect(
      (await admin.post('/api/v1/admin/reviews', { quarter: q, items: [...REVIEW_ITEMS] })).status,
    ).toBe(201)
    expect((await admin.get('/api/v1/admin/reviews')).body).toMatchObject({
      quarter: q,
      signed: { quarter: q },
    })

    t.clock.set(TEST_NOW - 4 * 365 * 86_400_000)
    await subscribe(t.deps, { ...API_CONSENT, email: 'old@exemple.fr', purposes: ['cookies'] })
    t.clock.set(TEST_NOW)
    const preview = await admin.get('/api/v1/admin/retention/preview')
    expect(preview.body).toMatchObject({ next: null, candidates: [{ last_activity: 'consent' }] })
    const started = await admin.post('/api/v1/admin/retention/runs')
    expect(started.status).toBe(202)
    expect(started.body).toMatchObject({ status: 'done', contacts_erased: 1, trigger: 'admin' })
    expect((await admin.get(`/api/v1/admin/retention/runs/${started.body.id}`)).body).toMatchObject(
      {
        status: 'done',
      },
    )
    expect((await admin.get('/api/v1/admin/retention')).body).toMatchObject({
      inactive_days: 1095,
      runs: [{ id: started.body.id }],
    })
    expect((await admin.get('/api/v1/admin/reconsent')).body).toEqual({ campaigns: [] })
  })
})
