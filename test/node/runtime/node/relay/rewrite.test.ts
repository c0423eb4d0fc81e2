// The relay's MIME rewrite in isolation: original content kept in order; settings read from the env.
import fc from 'fast-check'
import { simpleParser } from 'mailparser'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../../src/config.ts'
import { relayOptionsFromEnv } from '../../../../../src/runtime/node/relay/config.ts'
import { rewriteMessage } from '../../../../../src/runtime/node/relay/rewrite.ts'
import { buildRaw } from '../../../../helpers/relay.ts'

const links = {
  locale: 'fr' as const,
  org: 'ACME',
  unsubscribeUrl: 'https://gateway.test/u/tok',
  preferencesUrl: 'https://gateway.test/p/tok',
  listId: 'newsletter.gateway.test',
}

describe('rewriteMessage', () => {
  it('keeps every body it rewrites as a prefix, whatever the text and encoding', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'grapheme', maxLength: 200 }).filter((s) => !/[\r\n]/.test(s)),
        fc.constantFrom('quoted-printable', 'base64', undefined),
        async (body, textEncoding) => {
          const text = `${body}\n`
          const raw = await buildRaw({ from: 'a@acme.test', to: 'b@x.test', text, textEncoding })
          const { message, injected } = rewriteMessage(raw, links)
          expect(injected).toBe(1)
          const parsed = await simpleParser(message)
          expect(parsed.text!.startsWith(text.trimEnd())).toBe(true)
          expect(parsed.text).toContain(links.unsubscribeUrl)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('decodes a latin-1 part and writes it back as UTF-8', async () => {
    const raw = Buffer.concat([
      Buffer.from('To: b@x.test\r\nContent-Type: text/plain; charset=iso-8859-1\r\n'),
      Buffer.from('Content-Transfer-Encoding: 8bit\r\n\r\nCaf\xe9 cr\xe8me\r\n', 'latin1'),
    ])
    const parsed = await simpleParser(rewriteMessage(raw, links).message)
    expect(parsed.text).toMatch(/^Café crème/)
    expect(parsed.headers.get('content-type')).toMatchObject({ params: { charset: 'utf-8' } })
  })

  it.each(['windows-1252', 'cp1252', 'iso-8859-1', 'us-ascii', '"Windows-1252"'])(
    'reads %s as the WHATWG encoding it names: windows-1252, curly quotes and € kept',
    async (label) => {
      for (const [transfer, body] of [
        ['8bit', Buffer.from('\x93Caf\xe9\x94 \x80 5\r\n', 'latin1')],
        ['quoted-printable', Buffer.from('=93Caf=E9=94 =80 5\r\n')],
      ] as const) {
        const raw = Buffer.concat([
          Buffer.from(`To: b@x.test\r\nContent-Type: text/plain; charset=${label}\r\n`),
          Buffer.from(`Content-Transfer-Encoding: ${transfer}\r\n\r\n`),
          body,
        ])
        const parsed = await simpleParser(rewriteMessage(raw, links).message)
        expect(parsed.text).toMatch(/^“Café” € 5/)
      }
    },
  )

  it('leaves the charset label alone when the body keeps its bytes', () => {
    const once = rewriteMessage(
      Buffer.from(
        'To: b@x.test\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n' +
          'Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour\r\n--b\r\n' +
          'Content-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
          `<p>\x93Caf\xe9\x94</p><a href="${links.unsubscribeUrl}">x</a><a href="${links.preferencesUrl}">y</a>\r\n--b--\r\n`,
        'latin1',
      ),
      links,
    ).message
    // The HTML already held both links: its bytes and its label stay as they were.
    expect(once.toString('latin1')).toContain(
      'Content-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>\x93Caf\xe9\x94</p>',
    )
  })
})

describe('relayOptionsFromEnv', () => {
  const base = {
    APP_SECRET: 'x'.repeat(40),
    RELAY_PORT: '2525',
    RELAY_UPSTREAM_URL: 'smtp://mx:25',
  }

  it('is off without RELAY_PORT, 25 MB by default, DKIM only with all three settings', () => {
    expect(relayOptionsFromEnv(parseConfig({}), {})).toBeUndefined()
    expect(relayOptionsFromEnv(parseConfig(base), base)).toMatchObject({
      port: 2525,
      maxSize: 25 * 1024 * 1024,
    })
    const partial = { ...base, DKIM_DOMAIN: 'acme.test' }
    expect(() => relayOptionsFromEnv(parseConfig(partial), partial)).toThrow(/DKIM_SELECTOR/)
    const size = { ...base, RELAY_MAX_SIZE: 'lots' }
    expect(() => relayOptionsFromEnv(parseConfig(size), size)).toThrow(/RELAY_MAX_SIZE/)
  })
})
