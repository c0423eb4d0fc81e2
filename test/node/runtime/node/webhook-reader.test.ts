// Mautic webhook bodies read on a worker thread (src/runtime/node/webhook-reader.ts): the same reading
// as in the request, through the real app, and nothing lost when the thread dies or cannot start.
import { fileURLToPath } from 'node:url'
import { threadId } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { decryptField } from '../../../../src/lib/keys.ts'
import {
  eventAad,
  readMauticWebhook,
  type WebhookRead,
} from '../../../../src/mautic/webhook-read.ts'
import { nodeHmacSha256, nodeSha256 } from '../../../../src/runtime/node/crypto.ts'
import {
  webhookReaderThread,
  type WebhookReaderThread,
} from '../../../../src/runtime/node/webhook-reader.ts'
import { realisticBody5k, signMautic } from '../../../fixtures/mautic-webhooks.ts'
import { testApp } from '../../../helpers/deps.ts'

const SECRET = 'c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2'
const bytes = (s: string) => new TextEncoder().encode(s)
/** The same webhook padded past LONE_MAX_BYTES (64 KB): always the thread's to read. */
const overLoneMax = (body: string) => `${body.slice(0, -1)}, "padding": "${'x'.repeat(70 * 1024)}"}`

let reader: WebhookReaderThread | undefined
afterEach(() => reader?.close())

/** The app's real keys, and reading in the request with them, to compare the thread's reading with. */
async function setup() {
  const t = await testApp({ MAUTIC_WEBHOOK_SECRET: SECRET })
  const crypto = { hmac: nodeHmacSha256, sha256: nodeSha256, keys: t.deps.keys }
  const inline = (body: string, signature: string | undefined) =>
    readMauticWebhook(crypto, [SECRET], bytes(body), signature)
  /** Sealed events opened: a fresh IV makes every sealing different, the plaintext must not be. */
  const opened = async (read: WebhookRead) =>
    read.status !== 'ok'
      ? read
      : Promise.all(
          read.events.map(async ({ sealed, ...rest }) => ({
            ...rest,
            compact: sealed && (await decryptField(t.deps.keys, sealed, eventAad(rest.key))),
          })),
        )
  return { ...t, inline, opened }
}

describe('webhook reader thread', () => {
  it('reads a body on a thread of its own exactly as the request would', async () => {
    const t = await setup()
    const errors: string[] = []
    reader = webhookReaderThread(t.deps.keys, (m) => errors.push(m))
    const body = realisticBody5k()
    const signature = await signMautic(body, SECRET)
    // The first body, alone, is read here; the one right behind it goes to the thread.
    const [, read] = await Promise.all([
      reader.read([SECRET], bytes(body), signature),
      reader.read([SECRET], bytes(body), signature),
    ])
    expect(read.status).toBe('ok')
    const compact = (await t.opened(read)) as { compact?: string }[]
    expect(compact[0]!.compact).toContain('helene.lefevre-chateau@exemple.fr')
    expect(compact).toEqual(await t.opened(await t.inline(body, signature)))
    expect(reader.threadId()).toBeGreaterThan(threadId)
    expect(await reader.read([SECRET], bytes(body), await signMautic(body, 'another'))).toEqual({
      status: 'unsigned',
    })
    expect(await reader.read([SECRET], bytes('{"a":'), await signMautic('{"a":', SECRET))).toEqual({
      status: 'invalid',
      message: 'the body is not JSON',
    })
    expect(errors).toEqual([])
  })

  it('serves the intake: 200 with the event recorded, 401 unsigned, 400 unreadable', async () => {
    const t = await setup()
    reader = webhookReaderThread(t.deps.keys, () => {})
    t.deps.readWebhook = reader.read
    const post = async (body: string, signature: string) =>
      t.app.request('/hooks/mautic', {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'application/json', 'Webhook-Signature': signature },
      })
    const body = realisticBody5k()
    const ok = await post(body, await signMautic(body, SECRET))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ received: 1, duplicates: 0, outcomes: { queued: 1 } })
    expect(reader.threadId()).toBeDefined()
    expect(t.sqlite.prepare('SELECT COUNT(*) FROM webhook_receipts').pluck().get()).toBe(1)
    expect((await post(body, await signMautic(body, 'another'))).status).toBe(401)
    expect((await post('nope', await signMautic('nope', SECRET))).status).toBe(400)
  })

  it('reads a lone small body in the request, and hands the thread the next one at once and any large one', async () => {
    const t = await setup()
    const silent = fileURLToPath(new URL('../../../fixtures/silent-thread.cjs', import.meta.url))
    reader = webhookReaderThread(t.deps.keys, () => {}, silent)
    const body = realisticBody5k()
    const signature = await signMautic(body, SECRET)
    const large = overLoneMax(body)
    const largeSignature = await signMautic(large, SECRET)
    const settled = (p: Promise<unknown>) =>
      Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 200))])
    // Alone: no thread hop (the silent thread would never answer).
    const lone = reader.read([SECRET], bytes(body), signature)
    // Right behind it: the thread's.
    const next = reader.read([SECRET], bytes(body), signature)
    expect(await settled(lone)).toBe(true)
    expect(await settled(next)).toBe(false)
    await new Promise((r) => setTimeout(r, 20))
    // Alone again, but over 64 KB: the thread's (a queue-mode batch must not stall the requests).
    const big = reader.read([SECRET], bytes(large), largeSignature)
    expect(await settled(big)).toBe(false)
    await reader.close()
    expect(await t.opened(await lone)).toEqual(await t.opened(await t.inline(body, signature)))
    expect(await next).toMatchObject({ status: 'ok' })
    expect(await big).toMatchObject({ status: 'ok' })
  })

  it('reads in the request the bodies the thread held when it stopped', async () => {
    const t = await setup()
    reader = webhookReaderThread(t.deps.keys, () => {})
    const body = realisticBody5k()
    const signature = await signMautic(body, SECRET)
    // Over LONE_MAX_BYTES: the thread's whatever the timing (a small one right behind another is
    // the thread's too, unless a busy machine stalls more than 2 ms between the two calls).
    const large = overLoneMax(body)
    const largeSignature = await signMautic(large, SECRET)
    await reader.read([SECRET], bytes(body), signature) // alone: read in the request
    const pending = reader.read([SECRET], bytes(large), largeSignature)
    await reader.close()
    expect(await t.opened(await pending)).toEqual(
      await t.opened(await t.inline(large, largeSignature)),
    )
  })

  it('reads every body in the request, and says so, when the thread cannot start', async () => {
    const t = await setup()
    const errors: string[] = []
    const dead = fileURLToPath(new URL('../../../fixtures/dead-thread.cjs', import.meta.url))
    reader = webhookReaderThread(t.deps.keys, (m) => errors.push(m), dead)
    const body = realisticBody5k()
    const signature = await signMautic(body, SECRET)
    // A body over LONE_MAX_BYTES goes to the thread, which never starts (a small one right behind
    // another would too, but only if nothing stalls 2 ms between the two calls: CI once did).
    const large = overLoneMax(body)
    const largeSignature = await signMautic(large, SECRET)
    const [, second] = await Promise.all([
      reader.read([SECRET], bytes(body), signature),
      reader.read([SECRET], bytes(large), largeSignature),
    ])
    expect(await t.opened(second)).toEqual(await t.opened(await t.inline(large, largeSignature)))
    expect(errors).toEqual([expect.stringContaining('could not start (exit code 3)')])
    expect(await reader.read([SECRET], bytes(body), signature)).toMatchObject({ status: 'ok' })
    expect(reader.threadId()).toBeUndefined()
  })
})
