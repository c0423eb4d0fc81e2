// The hostile corpus (test/fixtures/hostile/webhooks/: one file per body, named after the status it
// must get): every body signed with the webhook secret, posted to /hooks/mautic, read in the request
// and on the reader thread `npm start` uses; the gateway must answer that status and keep serving.
import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import {
  webhookReaderThread,
  type WebhookReaderThread,
} from '../../../src/runtime/node/webhook-reader.ts'
import { contactFixture, leadSaved, webhookBody } from '../../fixtures/mautic-webhooks.ts'
import { drainOutbox, testApp } from '../../helpers/deps.ts'
import { createHmac } from 'node:crypto'

const DIR = new URL('../../fixtures/hostile/webhooks/', import.meta.url)
const SECRET = 'e1'.repeat(32)
const CASES = readdirSync(DIR)
  .filter((f) => /^\d{3}-/.test(f))
  .map((file) => ({
    file,
    status: Number(file.slice(0, 3)),
    body: readFileSync(new URL(file, DIR)),
  }))

const sign = (body: Uint8Array) => createHmac('sha256', SECRET).update(body).digest('base64')

let reader: WebhookReaderThread | undefined
afterEach(() => reader?.close())

async function setup(thread: boolean) {
  const t = await testApp({ MAUTIC_WEBHOOK_SECRET: SECRET })
  if (thread) {
    reader = webhookReaderThread(t.deps.keys, (m) => t.logs.push({ level: 'error', msg: m }))
    t.deps.readWebhook = reader.read
  }
  const post = (body: Uint8Array<ArrayBuffer>) =>
    t.app.request('/hooks/mautic', {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/json', 'Webhook-Signature': sign(body) },
    })
  return { ...t, post }
}

describe.each([
  ['in the request (Workers, tests)', false],
  ['on the reader thread (npm start)', true],
])('hostile Mautic webhook bodies, read %s', (_, thread) => {
  it('holds a case for each defect it guards against', () => {
    expect(CASES.map((c) => c.file)).toEqual(
      expect.arrayContaining([
        '400-nested-20000-levels-in-an-event.json',
        '400-invalid-utf8-in-an-address.bin',
      ]),
    )
  })

  it.each(CASES.map((c) => [c.file, c] as const))('%s', async (_file, c) => {
    const t = await setup(thread)
    const res = await t.post(c.body)
    expect(res.status).toBe(c.status)
    const body = (await res.json()) as any
    if (c.status === 400) expect(body.error.code).toBe('invalid_payload')
    // Nothing of a refused body is kept; the rest of the gateway serves on.
    if (c.status >= 400)
      expect(t.sqlite.prepare('SELECT count(*) FROM webhook_receipts').pluck().get()).toBe(0)
    expect((await t.app.request('/healthz')).status).toBe(200)
    const good = new TextEncoder().encode(
      webhookBody([
        leadSaved('new', contactFixture({ id: 7, email: 'anne@exemple.fr' }), t.clock.now()),
      ]),
    )
    expect((await t.post(good)).status).toBe(200)
    await drainOutbox(t.deps)
    expect(
      t.sqlite.prepare("SELECT count(*) FROM contact_links WHERE external_id = '7'").pluck().get(),
    ).toBe(1)
    // No address holding U+FFFD was ever stored, and no thread error.
    expect(t.logs.filter((l) => l.level === 'error')).toEqual([])
    if (thread) expect(reader!.threadId()).toBeDefined()
  })
})
