// Compliance on Workers/D1: a proof bundle fetched page after page, one request each, then its
// manifest, verified with nothing but the served JWKS; and a correction passed on to a processor's
// webhook (GDPR Art. 19), signed with our WebCrypto code and checked by the standardwebhooks package,
// both running inside workerd.
import { env, SELF } from 'cloudflare:test'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import type { JSONWebKeySet } from 'jose'
import { Webhook } from 'standardwebhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { bundleVerifier } from '../../src/domain/compliance/bundle-verify.ts'
import { createProcessor } from '../../src/domain/compliance/processors.ts'
import { requestRecipients } from '../../src/domain/compliance/recipients.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { findContact } from '../../src/domain/platform/contacts.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { correctContact } from '../../src/domain/rights/correction.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'

const BASE = 'https://gateway.test'
const HOOK = 'https://crm.example.test/gdpr'
const received: { headers: Record<string, string>; body: string }[] = []
let failures = 0
const server = setupServer(
  http.post(HOOK, async ({ request }) => {
    received.push({ headers: Object.fromEntries(request.headers), body: await request.text() })
    if (failures-- > 0) return new HttpResponse('down', { status: 502 })
    return new HttpResponse(null, { status: 204 })
  }),
)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => {
  received.length = 0
  failures = 0
})
afterAll(() => server.close())

async function setup() {
  const { deps } = await forEnv(env)
  const created = await createApiKey(deps, { name: 'worker-admin', scopes: ['admin'] })
  if (!created.ok) throw new Error(created.error)
  const get = (path: string) =>
    SELF.fetch(`${BASE}${path}`, { headers: { Authorization: `Bearer ${created.key}` } })
  const post = (path: string, body: unknown) =>
    SELF.fetch(`${BASE}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
  return { deps, get, post }
}

describe('compliance on D1 (workerd)', () => {
  it('serves a proof bundle in pages a client fetches one after another, tied by the signed manifest', async () => {
    const { deps, get, post } = await setup()
    // Consents recorded two minutes ago: inside the checkpoint the bundle is cut at.
    const past = { ...deps, clock: { now: () => Date.now() - 120_000 } }
    for (const email of ['w1@exemple.fr', 'w2@exemple.fr', 'w3@exemple.fr']) {
      const r = await subscribe(past, {
        email,
        purposes: ['cookies', 'geolocation'],
        locale: 'fr',
        method: 'api',
        source: 'worker-test',
        actor: 'api:test',
        evidence: { ip: '198.51.100.4' },
      })
      expect(r.ok).toBe(true)
    }
    const created = await post('/api/v1/admin/proof-bundles', {
      page_size: 2,
      fresh_checkpoint: true,
    })
    expect(created.status).toBe(201)
    const bundle = (await created.json()) as { id: string }

    /** The body as UTF-8 (workerd warns on .text() for a type it does not know as text). */
    const body = async (res: Response) => new TextDecoder().decode(await res.arrayBuffer())
    let file = ''
    let url: string | null = created.headers.get('link')!.match(/<([^>]+)>/)![1]!
    let pages = 0
    while (url) {
      const res = await get(new URL(url).pathname)
      expect(res.status).toBe(200)
      file += await body(res)
      pages++
      const link = res.headers.get('link')!
      url = /rel="next"/.test(link) ? link.match(/<([^>]+)>/)![1]! : null
      if (!url) expect(link).toContain(`/api/v1/admin/proof-bundles/${bundle.id}/manifest`)
    }
    expect(pages).toBe(5) // page 0, then 6 events 2 a page, then an empty last page
    const manifest = await get(`/api/v1/admin/proof-bundles/${bundle.id}/manifest`)
    file += await body(manifest)

    const jwks = (await (await SELF.fetch(`${BASE}/.well-known/jwks.json`)).json()) as JSONWebKeySet
    const check = async (text: string) => {
      const verifier = bundleVerifier(jwks)
      for (const line of text.split('\n')) await verifier.line(line)
      return verifier.finish()
    }
    expect(await check(file)).toMatchObject({
      ok: true,
      events: 6,
      contacts: 3,
      pages: 5,
      problems: [],
    })
    const tampered = file.replace('"198.51.100.4"', '"198.51.100.5"')
    expect(tampered).not.toBe(file)
    const refused = await check(tampered)
    expect(refused.ok).toBe(false)
    expect(refused.problems.join('\n')).toMatch(/differs from the signed manifest/)
  })

  it('passes a correction on to a processor webhook, signed, retried after a failure', async () => {
    const { deps } = await setup()
    const crm = await createProcessor(deps, {
      name: 'CRM',
      role: 'processor',
      country: 'FR',
      webhook_url: HOOK,
    })
    if (!crm.ok) throw new Error(crm.message)
    const r = await subscribe(deps, {
      email: 'w.anne@exemple.fr',
      purposes: ['cookies'],
      locale: 'fr',
      method: 'api',
      source: 'worker-test',
      actor: 'api:test',
      evidence: {},
      attributes: { first_name: 'Ane' },
    })
    if (!r.ok) throw new Error(r.message)
    failures = 1
    const result = await correctContact(deps, (await findContact(deps, r.contactId))!, {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    expect(result.ok).toBe(true)
    await deliverOutbox(deps)
    expect(received).toHaveLength(1)
    // Due again after the backoff: make it due now, as the next cron run would find it later.
    await env.DB.prepare(
      "UPDATE outbox SET next_attempt_at = 0 WHERE kind = 'recipient.notify' AND status = 'pending'",
    ).run()
    await deliverOutbox(deps)
    expect(received).toHaveLength(2)
    const last = received[1]!
    const event = new Webhook(crm.webhook_secret!).verify(last.body, last.headers) as any
    expect(event).toMatchObject({
      type: 'contact.rectified',
      data: { email: 'w.anne@exemple.fr', changes: { first_name: 'Anne' } },
    })
    const [notice] = await requestRecipients(deps, event.data.request_id)
    expect(notice).toMatchObject({ status: 'delivered', attempts: 2, channel: 'webhook' })
  })
})
