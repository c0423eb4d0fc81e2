// The hostile corpus (test/fixtures/hostile/README.md): one file per input with its expected status.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { simpleParser } from 'mailparser'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../src/app.ts'
import { HTML_FOOTER_END, HTML_FOOTER_START } from '../../src/mail/inject.ts'
import { accessUrl } from '../../src/domain/rights/access.ts'
import { preferencesUrl, unsubscribeUrl } from '../../src/domain/sending/links.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { API_CONSENT, testDeps } from '../helpers/deps.ts'
import { consentedContact, lastReceived, sendRawSmtp, startRelayRig } from '../helpers/relay.ts'

const ROOT = join(import.meta.dirname, '../fixtures/hostile')
const corpus = (area: string, ext: string) =>
  readdirSync(join(ROOT, area))
    .filter((f) => f.endsWith(`.${ext}`))
    .sort()
    .map((file) => {
      const m = /\.(\d{3})\.[a-z]+$/.exec(file)
      if (!m) throw new Error(`${area}/${file}: the name must end with .<status>.${ext}`)
      return { file, status: Number(m[1]), bytes: readFileSync(join(ROOT, area, file)) }
    })

const lf = (s: string) => s.replace(/\r\n/g, '\n').replace(/\n+$/, '')
const withoutFooter = (html: string) =>
  html.replace(new RegExp(`${HTML_FOOTER_START}[\\s\\S]*?${HTML_FOOTER_END}\\n?`, 'g'), '')

describe('hostile corpus: relay (SMTP on 127.0.0.1)', () => {
  let rig: Awaited<ReturnType<typeof startRelayRig>>
  beforeAll(async () => {
    rig = await startRelayRig()
    await consentedContact(rig.deps, 'anne@exemple.fr')
  })
  afterAll(() => rig.close())

  it.each(corpus('relay', 'eml'))('$file', async ({ bytes, status }) => {
    const before = rig.upstream.received.length
    const answer = await sendRawSmtp(rig.relay.port, {
      user: 'push_notifications',
      pass: rig.relayKey,
      from: 'news@acme.test',
      to: ['anne@exemple.fr'],
      data: bytes,
    })
    expect(answer.code, answer.text).toBe(status)
    if (status !== 250) {
      expect(rig.upstream.received.length).toBe(before)
      expect(answer.text).toMatch(/^5\d\d 5\.\d\.\d /)
      return
    }
    const [original, forwarded] = [
      await simpleParser(bytes),
      await simpleParser(lastReceived(rig.upstream.received).raw),
    ]
    for (const a of original.attachments)
      expect(
        forwarded.attachments.some((b) => b.content.equals(a.content)),
        a.filename,
      ).toBe(true)
    // mailparser makes a text from the HTML when there is no text part: compare real parts only.
    const textPart = !original.html || /^content-type:\s*text\/plain/im.test(`${bytes}`)
    if (textPart && original.text) expect(lf(forwarded.text ?? '')).toContain(lf(original.text))
    if (original.html) expect(lf(withoutFooter(forwarded.html || ''))).toContain(lf(original.html))
    // Bytes it could not read are forwarded as they came, never replaced.
    if (!original.text?.includes('\ufffd')) expect(forwarded.text ?? '').not.toContain('\ufffd')
    // The links went in somewhere.
    expect(`${forwarded.text}${forwarded.html}`).toContain('https://gateway.test/u/')
  })
})

describe('hostile corpus: forms (HTTP)', () => {
  let t: Awaited<ReturnType<typeof testDeps>>
  let app: ReturnType<typeof createApp>
  const tokens: Record<string, string> = {}
  beforeAll(async () => {
    t = await testDeps()
    app = createApp(t.deps)
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['newsletter', 'cookies'],
    })
    if (!r.ok) throw new Error(r.message)
    await deliverOutbox(t.deps)
    const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1)
    tokens.c = /\/c\/([\w.-]+)/.exec(t.mail.sent.at(-1)!.text ?? '')![1]!
    tokens.p = tokenOf(await preferencesUrl(t.deps, r.contactId))
    tokens.u = tokenOf(await unsubscribeUrl(t.deps, r.contactId, 'cookies'))
    tokens.me = tokenOf(await accessUrl(t.deps, r.contactId, crypto.randomUUID()))
  })
  afterAll(() => t.sqlite.close())

  const snapshot = () =>
    ['contacts', 'consent_events', 'consent_state', 'optin_requests', 'dsr_requests', 'outbox']
      .map((table) => JSON.stringify(t.sqlite.prepare(`SELECT * FROM ${table}`).all()))
      .join('\n')

  it.each(corpus('forms', 'txt'))('$file', async ({ bytes, status }) => {
    const text = bytes.toString('utf8')
    const [head, ...rest] = text.split(/\n\n/)
    const [requestLine, ...headerLines] = head!.split('\n')
    const [method, rawPath] = requestLine!.split(' ') as [string, string]
    const path = rawPath.replace(/\{(\w+)\}/g, (_m, name: string) => tokens[name]!)
    const headers = Object.fromEntries(
      headerLines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    )
    let body = rest.join('\n\n')
    if (/^multipart\//i.test(headers['Content-Type'] ?? '')) body = body.replace(/\n/g, '\r\n')
    const before = snapshot()
    const res = await app.request(path, { method, headers, body: body === '' ? undefined : body })
    const page = await res.text()
    expect(res.status, page.slice(0, 400)).toBe(status)
    if (status >= 400) {
      expect(res.headers.get('content-type')).toContain('text/html')
      const lang = /^en/i.test(headers['Accept-Language'] ?? '') ? 'en' : 'fr'
      expect(page).toContain(`<html lang="${lang}">`)
      expect(snapshot()).toBe(before)
    }
  })
})
