// The console's part-2 screens inside workerd on D1: every screen in French and English for a signed-in
// owner, an action of each group (withdraw with a reason, a request recorded and extended with its
// mail kept in D1, a draft published); the gate's refusals counted after the response (waitUntil);
// and the backfill of the daily counters in batches on D1, equal to the ledger's counts.
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { backfillCounters, backfillProgress } from '../../src/domain/platform/counters.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import { makeAdmin } from '../helpers/admin.ts'
import { consoleClient, ORIGIN } from './console-client.ts'

async function signedIn() {
  const { deps } = await forEnv(env)
  const admin = await makeAdmin({ ...deps, pbkdf2Iterations: 1000 }, 'owner')
  const { call, csrf } = consoleClient()
  expect(
    (await call('POST', '/admin/sign-in', { email: admin.email, password: admin.password })).status,
  ).toBe(303)
  const second = await call('POST', '/admin/sign-in/second-factor', {
    _csrf: await csrf('/admin/sign-in/second-factor'),
    code: totpCode(admin.totpSecret!, Date.now() + 30_000),
  })
  expect(second.status).toBe(303)
  const token = await csrf('/admin/account')
  return {
    deps,
    get: (path: string) => call('GET', path),
    post: (path: string, form: Record<string, string>) =>
      call('POST', path, { _csrf: token, ...form }),
  }
}

const one = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .all()
  ).results

describe('the console part 2 on Workers (workerd + D1)', () => {
  it('serves every screen in French and English, and acts with a reason', async () => {
    const b = await signedIn()
    const r = await subscribe(b.deps, {
      email: 'anne@exemple.fr',
      purposes: ['cookies'],
      locale: 'fr',
      method: 'api',
      source: 'test',
      actor: 'api:test',
      evidence: { ip: '192.0.2.1' },
    })
    if (!r.ok) throw new Error(r.message)
    const id = r.contactId
    for (const lang of ['fr', 'en'])
      for (const path of [
        '/admin',
        '/admin/contacts',
        `/admin/contacts/${id}`,
        `/admin/contacts/${id}/evidence`,
        '/admin/requests',
        '/admin/requests/new',
        '/admin/purposes',
        '/admin/purposes/newsletter',
        '/admin/forms',
        '/admin/integration',
        '/admin/keys',
      ]) {
        const res = await b.get(`${path}?lang=${lang}`)
        const text = await res.text()
        expect([path, lang, res.status]).toEqual([path, lang, 200])
        expect(text).toContain(`<html lang="${lang}">`)
        expect(text).not.toMatch(/\badmin\.[a-z]+\.[a-zA-Z.]+/)
      }
    expect(await (await b.get('/admin?lang=en')).text()).toContain('<svg viewBox="0 0 640 220"')

    // Contacts: withdraw with a reason.
    const done = await b.post(`/admin/contacts/${id}/withdraw`, {
      purpose: 'cookies',
      reason: 'letter',
    })
    expect(done.headers.get('location')).toBe(`/admin/contacts/${id}?done=withdrawn`)
    expect(await one('SELECT status FROM consent_state WHERE contact_id = ?', id)).toEqual([
      { status: 'withdrawn' },
    ])
    // Requests: recorded, extended; the mail is kept in D1 (MAIL_TRANSPORT=log).
    const recorded = await b.post('/admin/requests', {
      kind: 'access',
      via: 'post',
      contact: 'anne@exemple.fr',
    })
    const requestId = /\/admin\/requests\/([\w-]+)/.exec(recorded.headers.get('location')!)![1]!
    const extended = await b.post(`/admin/requests/${requestId}/extend`, {
      months: '2',
      reason: 'many requests',
    })
    expect(extended.headers.get('location')).toBe(`/admin/requests/${requestId}?done=mailed`)
    // Purposes: a draft published as version 2.
    await b.post('/admin/purposes/newsletter/draft', {
      locale: 'en',
      title: 'Monthly news',
      text: 'Once a month.',
      privacy_url: '',
      reason: 'new wording',
    })
    await b.post('/admin/purposes/newsletter/publish', { locale: 'en', reason: 'approved' })
    expect(
      await one(
        "SELECT max(version) AS v FROM notices WHERE purpose_key = 'newsletter' AND locale = 'en' AND published_at IS NOT NULL",
      ),
    ).toEqual([{ v: 2 }])
    const audit = await one(
      "SELECT action FROM audit_log WHERE action IN ('contact.withdraw', 'request.extend', 'notice.publish') ORDER BY seq",
    )
    expect(audit.map((a) => a.action)).toEqual([
      'contact.withdraw',
      'request.extend',
      'notice.publish',
    ])
  })

  it('counts the gate API refusals after the response', async () => {
    const { deps } = await forEnv(env)
    const key = await createApiKey(deps, { name: 'site', scopes: ['gate'] })
    if (!key.ok) throw new Error(key.error)
    const res = await SELF.fetch(`${ORIGIN}/api/v1/gate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: 'nobody@exemple.fr' }] }),
    })
    expect(res.status).toBe(200)
    await res.text()
    let rows: Record<string, unknown>[] = []
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      rows = await one(
        "SELECT dim1, dim2, dim3, count FROM daily_counters WHERE name = 'sends_refused'",
      )
      if (rows.length === 0) await new Promise((r) => setTimeout(r, 20))
    }
    expect(rows).toEqual([
      { dim1: 'gate_api', dim2: 'newsletter', dim3: 'unknown_contact', count: 1 },
    ])
  })

  it('fills the counters from what D1 held before them, in batches, equal to the ledger', async () => {
    const { deps } = await forEnv(env)
    for (const email of ['a@exemple.fr', 'b@exemple.fr', 'c@exemple.fr', 'd@exemple.fr'])
      await subscribe(deps, {
        email,
        purposes: ['newsletter', 'cookies'],
        locale: 'fr',
        method: 'api',
        source: 'test',
        actor: 'api:test',
        evidence: null,
      } as never)
    // As if the events had been recorded before migration 0013.
    await env.DB.batch([
      env.DB.prepare('DELETE FROM daily_counters'),
      env.DB.prepare(
        "UPDATE counter_backfill SET cursor = '0', boundary = (SELECT max(rowid) FROM consent_events), total = (SELECT count(*) FROM consent_events), done = 0, finished_at = NULL WHERE source = 'consent_events'",
      ),
    ])
    expect((await backfillProgress(deps)).finished).toBe(false)
    let runs = 0
    while (!(await backfillCounters(deps, { batch: 3, budgetMs: 0 })).finished) runs++
    expect(runs).toBeGreaterThan(1)
    const counted = await one(
      "SELECT day, dim1, dim2, count FROM daily_counters WHERE name = 'consent_events' ORDER BY 1, 2, 3",
    )
    const ledger = await one(
      "SELECT strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch') AS day, purpose_key AS dim1, action AS dim2, count(*) AS count FROM consent_events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )
    expect(counted).toEqual(ledger)
    expect(counted.length).toBeGreaterThan(0)
  })
})
