// SIGKILL under load, then a restart on the same file. Every request answered 2xx is recorded exactly
// once; a request left unanswered is all there or not there at all; the outbox delivers what it held,
// the message claimed at the moment of the kill included; and verify-ledger passes.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterEach, describe, expect, it } from 'vitest'
import {
  contactFixture,
  leadSaved,
  signMautic,
  webhookBody,
} from '../../fixtures/mautic-webhooks.ts'
import { TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin, type Spawned } from '../../helpers/spawn.ts'

const WEBHOOK_SECRET = 'crash-test-webhook-secret'
const running: Spawned[] = []
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const s of running.splice(0)) s.child.kill('SIGKILL')
  for (const close of closers.splice(0)) await close()
})

/** An SMTP sink that holds every message in DATA until `release()`: a delivery hangs mid-send. */
async function holdingSmtp() {
  const recipients: string[] = []
  const held: (() => void)[] = []
  let holding = true
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      stream.resume()
      stream.on('end', () => {
        const accept = () => {
          recipients.push(...session.envelope.rcptTo.map((r) => r.address))
          callback()
        }
        if (holding) held.push(accept)
        else accept()
      })
    },
  })
  // The killed gateway's connections reset: expected here, not an error of the test.
  server.on('error', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as { port: number }).port}`,
    recipients,
    held: () => held.length,
    release() {
      holding = false
    },
  }
}

interface Sent {
  kind: 'subscription' | 'webhook'
  email: string
  body: string
  status: number | 'no answer'
}

describe('crash: SIGKILL under load, then a restart on the same file', () => {
  it('loses nothing acknowledged, half-writes nothing, delivers what the outbox held', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'cg-crash-'))
    const smtp = await holdingSmtp()
    const env = {
      PORT: '0',
      APP_SECRET: TEST_SECRET,
      MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET,
      MAIL_TRANSPORT: 'smtp',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'gateway@exemple.fr',
    }
    const keyCmd = spawnBin(
      ['api-key', 'create', '--name', 'crash', '--scopes', 'subscribe,consents:read'],
      { cwd, env },
    )
    expect(await keyCmd.exited).toBe(0)
    const key = keyCmd.output().match(/cgk_\S+/)![0]

    const serve = () => {
      const s = spawnBin(['serve'], { cwd, env })
      running.push(s)
      return s
    }
    const first = serve()
    const [, url] = await first.waitFor(/running on (http:\/\/127\.0\.0\.1:\d+)/)

    // Load: subscriptions (each starts a double opt-in mail) and signed webhooks, new ones every time.
    const sent: Sent[] = []
    let n = 0
    let stop = false
    const post = async (s: Omit<Sent, 'status'>, headers: Record<string, string>) => {
      const entry: Sent = { ...s, status: 'no answer' }
      sent.push(entry)
      try {
        const path = s.kind === 'webhook' ? '/hooks/mautic' : '/api/v1/subscriptions'
        const res = await fetch(`${url}${path}`, { method: 'POST', headers, body: s.body })
        entry.status = res.status
        await res.arrayBuffer()
      } catch {
        // the connection died with the process: no answer
      }
    }
    const worker = async () => {
      while (!stop) {
        const i = n++
        const email = `crash-${i}@exemple.fr`
        if (i % 2 === 0) {
          const body = JSON.stringify({ email, purposes: ['newsletter'], source: 'crash-test' })
          await post(
            { kind: 'subscription', email, body },
            { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          )
        } else {
          const body = webhookBody([
            leadSaved(
              'new',
              contactFixture({ id: 10_000 + i, email }),
              Date.UTC(2026, 10, 1, 0, 0, i % 60),
            ),
          ])
          await post(
            { kind: 'webhook', email, body },
            {
              'Content-Type': 'application/json',
              'Webhook-Signature': await signMautic(body, WEBHOOK_SECRET),
            },
          )
        }
      }
    }
    const workers = Array.from({ length: 8 }, worker)
    // Kill once a confirmation mail hangs in DATA (its outbox row claimed) and load is flowing.
    const deadline = Date.now() + 20_000
    while (
      (smtp.held() === 0 || sent.filter((s) => s.status === 202).length < 20) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 20))
    expect(smtp.held()).toBeGreaterThan(0)
    first.child.kill('SIGKILL')
    await first.exited
    stop = true
    await Promise.all(workers)
    smtp.release()

    const second = serve()
    const [, url2] = await second.waitFor(/running on (http:\/\/127\.0\.0\.1:\d+)/)
    const answered = (kind: Sent['kind']) =>
      sent.filter((s) => s.kind === kind && s.status !== 'no answer')
    expect(answered('subscription').every((s) => s.status === 202)).toBe(true)
    expect(answered('webhook').every((s) => s.status === 200)).toBe(true)
    expect(sent.some((s) => s.status === 'no answer')).toBe(true)

    const proof = async (email: string) => {
      const res = await fetch(`${url2}/api/v1/contacts/${encodeURIComponent(email)}/consents`, {
        headers: { Authorization: `Bearer ${key}` },
      })
      return { status: res.status, body: (await res.json()) as any }
    }
    for (const s of sent.filter((x) => x.kind === 'subscription')) {
      const p = await proof(s.email)
      if (s.status === 202) expect(p.status).toBe(200)
      if (p.status === 404) continue // never written: fine for a request nobody was told about
      // Written whole, once: the state and exactly one request of the purpose.
      expect(p.body.state.newsletter.status).toBe('pending')
      const requested = p.body.history.filter(
        (e: any) => e.purpose === 'newsletter' && e.action === 'requested',
      )
      expect(requested).toHaveLength(1)
    }
    // Every webhook acknowledged before the kill is known: sent again, it is a duplicate.
    for (const s of answered('webhook')) {
      const res = await fetch(`${url2}/hooks/mautic`, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'Webhook-Signature': await signMautic(s.body, WEBHOOK_SECRET),
        },
        body: s.body,
      })
      expect(await res.json()).toMatchObject({ received: 1, duplicates: 1 })
    }
    // The outbox delivers what it held, the mail claimed when the process died included.
    const owed = answered('subscription').map((s) => s.email)
    const until = Date.now() + 20_000
    while (owed.some((e) => !smtp.recipients.includes(e)) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50))
    expect(owed.filter((e) => !smtp.recipients.includes(e))).toEqual([])

    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    const verify = spawnBin(['verify-ledger'], { cwd, env })
    expect(await verify.exited).toBe(0)
    expect(verify.output()).toContain('Ledger verified')
  }, 90_000)
})
