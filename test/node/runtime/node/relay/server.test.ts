// The SMTP relay delivers allowed marketing mail with the links and list headers, MIME intact.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  binaryBytes,
  consentedContact,
  lastReceived,
  linesNamed,
  startRelayRig,
} from '../../../../helpers/relay.ts'

let rig: Awaited<ReturnType<typeof startRelayRig>>
beforeAll(async () => {
  rig = await startRelayRig()
  await consentedContact(rig.deps, 'anne@exemple.fr')
  await consentedContact(rig.deps, 'bob@exemple.fr')
})
afterAll(() => rig.close())

const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), binaryBytes(4000)])
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  binaryBytes(900),
])

const newsletter = {
  from: 'news@acme.test',
  to: 'anne@exemple.fr',
  subject: 'Nouveautés ✓',
  text: 'Bonjour Anne, voici les nouveautés de l’été : café, crème brûlée ✓\n',
  html: '<html><body><p>Bonjour Anne, café ✓</p><img src="cid:logo@acme"></body></html>',
  attachments: [
    { filename: 'tarifs.pdf', content: pdf, contentType: 'application/pdf' },
    { filename: 'logo.png', content: png, contentType: 'image/png', cid: 'logo@acme' },
  ],
}

describe('SMTP relay: allowed recipient', () => {
  it.each(['quoted-printable', 'base64'] as const)(
    'adds the footer to both parts (%s), one List-Unsubscribe, attachments byte-identical',
    async (textEncoding) => {
      const info = await rig.send('push_notifications', rig.relayKey, {
        ...newsletter,
        textEncoding,
      })
      expect(info.accepted).toEqual(['anne@exemple.fr'])
      const got = lastReceived(rig.upstream.received)
      expect(got.envelope).toEqual({ from: 'news@acme.test', to: ['anne@exemple.fr'] })
      for (const type of ['text/plain', 'text/html'])
        expect(got.raw).toMatch(
          new RegExp(
            `Content-Type: ${type}; charset=utf-8\r?\nContent-Transfer-Encoding: ${textEncoding}`,
          ),
        )

      const unsubscribe = linesNamed(got, 'List-Unsubscribe')
      expect(unsubscribe).toHaveLength(1)
      expect(linesNamed(got, 'List-Unsubscribe-Post')).toEqual([
        'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
      ])
      expect(linesNamed(got, 'List-Id')).toEqual(['List-Id: <push-notifications.gateway.test>'])
      const url = /<(https:\/\/gateway\.test\/u\/[^>]+)>/.exec(unsubscribe[0]!)![1]!

      expect(got.parsed.subject).toBe('Nouveautés ✓')
      expect(got.parsed.text).toContain('crème brûlée ✓')
      expect(got.parsed.text).toContain(url)
      expect(got.parsed.text).toContain('https://gateway.test/p/')
      const html = got.parsed.html || ''
      expect(html).toContain('<p>Bonjour Anne, café ✓</p>')
      expect(html).toContain(url.replace(/&/g, '&amp;'))
      expect(html).toContain('https://gateway.test/p/')
      expect(html.indexOf('café')).toBeLessThan(html.indexOf(url))

      const byName = new Map(got.parsed.attachments.map((a) => [a.filename, a]))
      expect(byName.get('tarifs.pdf')!.content.equals(pdf)).toBe(true)
      expect(byName.get('logo.png')!.content.equals(png)).toBe(true)
      expect(byName.get('logo.png')!.cid).toBe('logo@acme')
    },
  )

  it("replaces Mautic's List-Unsubscribe: one header, gateway URL first, its mailto kept", async () => {
    await rig.send('push_notifications', rig.relayKey, {
      ...newsletter,
      list: {
        unsubscribe: [['https://mautic.acme.test/email/unsubscribe/abc', 'unsub@acme.test']],
      },
    })
    const lines = linesNamed(lastReceived(rig.upstream.received), 'List-Unsubscribe')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.replace(/\r?\n\s+/g, ' ')).toMatch(
      /^List-Unsubscribe: <https:\/\/gateway\.test\/u\/[^>]+>, <mailto:unsub@acme\.test>$/,
    )
    expect(lines[0]).not.toContain('mautic.acme.test')
  })

  it('lets X-Consent-Purpose choose the purpose, and removes it before forwarding', async () => {
    await rig.send('mautic', rig.relayKey, {
      ...newsletter,
      headers: { 'X-Consent-Purpose': 'push_notifications' },
    })
    const got = lastReceived(rig.upstream.received)
    expect(got.envelope.to).toEqual(['anne@exemple.fr'])
    expect(linesNamed(got, 'X-Consent-Purpose')).toEqual([])
    expect(linesNamed(got, 'List-Id')[0]).toContain('push-notifications.')
  })

  it('sends one copy per allowed recipient, each with its own links', async () => {
    const before = rig.upstream.received.length
    const info = await rig.send('push_notifications', rig.relayKey, {
      ...newsletter,
      to: ['anne@exemple.fr', 'bob@exemple.fr'],
    })
    expect(info.accepted).toHaveLength(2)
    const copies = rig.upstream.received.slice(before)
    expect(copies.map((c) => c.envelope.to)).toEqual([['anne@exemple.fr'], ['bob@exemple.fr']])
    const urls = copies.map(
      (c) => /<(https:[^>]+)>/.exec(linesNamed(c, 'List-Unsubscribe')[0]!)![1]!,
    )
    expect(urls[0]).not.toEqual(urls[1])
    copies.forEach((c, i) => expect(c.parsed.text).toContain(urls[i]))
  })

  it('passes transactional mail ungated and unchanged', async () => {
    const raw = Buffer.from(
      'From: shop@acme.test\r\nTo: stranger@exemple.fr\r\nSubject: Reset\r\n' +
        'DKIM-Signature: v=1; a=rsa-sha256; d=acme.test; s=x; b=abc\r\n' +
        'List-Unsubscribe: <mailto:x@acme.test>\r\n\r\nVotre code : 1234 ✓\r\n',
    )
    await rig.send('transactional', rig.transactionalKey, {
      envelope: { from: 'shop@acme.test', to: ['stranger@exemple.fr'] },
      raw,
    })
    const got = lastReceived(rig.upstream.received)
    expect(got.envelope.to).toEqual(['stranger@exemple.fr'])
    expect(Buffer.from(got.raw)).toEqual(raw)
    const log = rig.logs.find((l) => l.msg === 'relay: transactional mail passed ungated')
    expect(log).toMatchObject({ recipients: 1 })
    expect(JSON.stringify(rig.logs)).not.toContain('stranger@')
  })
})
