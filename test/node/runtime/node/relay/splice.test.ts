// The in-place rewrite (footer spliced into the encoded body) against the streaming one it stands in
// for: same decoded bodies, every other byte kept, and the streaming path for what it cannot do.
import fc from 'fast-check'
import { simpleParser } from 'mailparser'
import { describe, expect, it } from 'vitest'
import {
  rewriteByStream,
  rewriteInPlace,
  rewriteMessage,
} from '../../../../../src/runtime/node/relay/rewrite.ts'
import { splitParts } from '../../../../../src/runtime/node/relay/mime.ts'
import { binaryBytes, buildRaw } from '../../../../helpers/relay.ts'

const links = {
  locale: 'fr' as const,
  org: 'ACME',
  unsubscribeUrl: 'https://gateway.test/u/tok?a=1&b=2',
  preferencesUrl: 'https://gateway.test/p/tok',
  listId: 'newsletter.gateway.test',
}

/**
 * Decoded bodies as a mail client reads them. Line ends as LF (the streaming path keeps the footer's
 * LF, the splice writes the message's CRLF), and no line end at the very end (mailsplit's Rewriter
 * adds one to what it encodes).
 */
async function bodies(message: Buffer) {
  const parsed = await simpleParser(message)
  const lf = (s: string | false | undefined) => (s || '').replace(/\r\n/g, '\n').replace(/\n$/, '')
  return { html: lf(parsed.html), text: lf(parsed.text), parsed }
}

/** The Content-Type and Content-Transfer-Encoding lines of every part, in order. */
const labels = (message: Buffer) =>
  message.toString('latin1').match(/^Content-(Type: text\/[^\r]*|Transfer-Encoding: .*)$/gm)

/**
 * Whether the HTML body went in by a splice: the new encoded body is the old one with bytes inserted
 * at one place (what it shares at the start and at the end covers all of the old one).
 */
function htmlSpliced(raw: Buffer, message: Buffer): boolean {
  const html = (m: Buffer) => {
    const part = splitParts(m)!.find((p) => p.node.contentType === 'text/html')!
    return m.subarray(...part.body)
  }
  const [before, after] = [html(raw), html(message)]
  let start = 0
  while (start < before.length && before[start] === after[start]) start++
  let end = 0
  while (end < before.length - start && before.at(-1 - end) === after.at(-1 - end)) end++
  return after.length > before.length && start + end === before.length
}

async function expectSameAsStream(raw: Buffer) {
  const inPlace = rewriteInPlace(raw, links)
  const stream = await rewriteByStream(raw, links)
  expect(inPlace).not.toBeNull()
  expect(inPlace!.injected).toBe(stream.injected)
  const [a, b] = [await bodies(inPlace!.message), await bodies(stream.message)]
  expect(a.html).toBe(b.html)
  expect(a.text).toBe(b.text)
  return inPlace!.message
}

/** A multipart/alternative with the HTML part's quoted-printable body as given, CRLF line ends. */
const withHtmlBody = (qp: string) =>
  Buffer.from(
    [
      'From: news@acme.test',
      'To: anne@exemple.fr',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Bonjour =E2=9C=93',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      qp,
      '--b1--',
      '',
    ].join('\r\n'),
  )

describe('rewriteInPlace', () => {
  it('decodes to what the streaming rewrite gives, whatever the HTML and text', async () => {
    const piece = fc.constantFrom(
      '<p>Café ✓ crème</p>',
      '</body>',
      '</BODY >',
      '<!-- </body> -->',
      '<!--',
      '-->',
      '  \n',
      ' \t',
      '=',
      '-- ',
      '\n--b1\n',
      'x'.repeat(90),
      'é'.repeat(40),
      '\n',
      'https://gateway.test/p/tok',
    )
    let [quotedPrintable, spliced] = [0, 0]
    await fc.assert(
      fc.asyncProperty(
        fc.array(piece, { maxLength: 12 }).map((p) => p.join('')),
        fc.array(piece, { maxLength: 6 }).map((p) => p.join('')),
        async (html, text) => {
          const raw = await buildRaw({
            from: 'a@acme.test',
            to: 'b@x.test',
            html: `<html><body>${html}</body></html>`,
            text,
            textEncoding: 'quoted-printable',
          })
          const message = await expectSameAsStream(raw)
          // ASCII-only HTML comes as 7bit, which is written anew as quoted-printable.
          if (/text\/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-/.test(`${raw}`)) {
            quotedPrintable++
            if (htmlSpliced(raw, message)) spliced++
          }
        },
      ),
      // Some 40–55 % of runs draw quoted-printable HTML (61–84 of 150 in five runs here), so "more than 20"
      // holds; with 60 runs CI once drew exactly 20.
      { numRuns: 150 },
    )
    // Nothing in these pieces needs more than a footer.
    expect(spliced).toBe(quotedPrintable)
    expect(spliced).toBeGreaterThan(20)
  })

  it('finds </body> split by a soft line break or written as =3C', async () => {
    for (const qp of [
      '<p>Bonjour =C3=A9</p></bo=\r\ndy></html>',
      '<p>Bonjour</p>=3C/body>=3C/html>',
      '<p>x</p>   \r\n</body></html>   ',
      `${'a'.repeat(75)}=\r\n</body>`,
      '<p>no body end, a soft break at the end</p>=',
    ]) {
      const raw = withHtmlBody(qp)
      expect(htmlSpliced(raw, await expectSameAsStream(raw))).toBe(true)
    }
  })

  it('keeps every byte it does not rewrite: headers, attachments, the related image', async () => {
    const png = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), binaryBytes(3000)])
    const raw = await buildRaw({
      from: 'a@acme.test',
      to: 'b@x.test',
      subject: 'Nouveautés ✓',
      text: 'Bonjour, voici les nouveautés ✓\n',
      html: '<html><body><p>Café ✓</p><img src="cid:logo@acme"></body></html>',
      attachments: [
        { filename: 'logo.png', content: png, cid: 'logo@acme' },
        { filename: 'tarifs.pdf', content: binaryBytes(5000), contentType: 'application/pdf' },
      ],
    })
    const message = await expectSameAsStream(raw)
    const source = raw.toString('latin1')
    const out = message.toString('latin1')
    // Everything from the image part's header on is the original, byte for byte.
    const image = source.indexOf('Content-Type: image/png')
    expect(out.endsWith(source.slice(source.lastIndexOf('\r\n--', image)))).toBe(true)
    const { parsed } = await bodies(message)
    expect(parsed.attachments.find((a) => a.cid === 'logo@acme')!.content.equals(png)).toBe(true)
    expect(parsed.subject).toBe('Nouveautés ✓')
  })

  it('is idempotent: a rewritten message passes through unchanged in its bodies', async () => {
    const raw = await buildRaw({
      from: 'a@acme.test',
      to: 'b@x.test',
      html: '<p>é</p>',
      text: 'é',
      textEncoding: 'quoted-printable',
    })
    const once = rewriteInPlace(raw, links)!.message
    const twice = rewriteInPlace(once, links)!
    expect(twice.injected).toBe(2)
    const [first, second] = [await bodies(once), await bodies(twice.message)]
    expect([second.html, second.text]).toEqual([first.html, first.text])
    expect(twice.message.toString().match(/^List-Unsubscribe:/gm)).toHaveLength(1)
  })

  it('splices an 8bit body as it is, keeping 8bit', async () => {
    const raw = Buffer.from(
      'To: b@x.test\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
        '<html><body><p>Café ✓</p></body></html>\r\n',
    )
    const message = await expectSameAsStream(raw)
    expect(message.toString()).toMatch(/^Content-Transfer-Encoding: 8bit\r$/m)
    expect(message.toString()).toMatch(/\r\n\r\n<html><body><p>Café ✓<\/p><!-- consent-gateway/)
  })

  it('writes anew, as the streaming path does, what a footer alone cannot do', async () => {
    const html = '<html><body><a href="{{unsubscribe_url}}">Se désinscrire</a></body></html>'
    const cases = [
      await buildRaw({ to: 'b@x.test', html, textEncoding: 'quoted-printable' }),
      await buildRaw({ to: 'b@x.test', html: '<p>é</p>', text: 'é ✓', textEncoding: 'base64' }),
      await buildRaw({ to: 'b@x.test', html: '<p>plain ASCII</p>', text: 'ASCII' }),
      Buffer.from(
        'To: b@x.test\r\nContent-Type: text/plain; charset=iso-8859-1\r\n' +
          'Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9\r\n',
      ),
      Buffer.from(
        'To: b@x.test\r\nContent-Type: text/plain\r\n\r\n\xef\xbb\xbfBOM, 7bit',
        'latin1',
      ),
    ]
    for (const raw of cases) {
      const message = await expectSameAsStream(raw)
      expect(labels(message)).toEqual(labels((await rewriteByStream(raw, links)).message))
      expect(message.toString()).not.toContain('{{unsubscribe_url}}')
    }
    const filled = await bodies((await rewriteMessage(cases[0]!, links)).message)
    expect(filled.html).toContain('href="https://gateway.test/u/tok?a&#x3D;1&amp;b&#x3D;2"')
  })

  it('leaves to the streaming path the mail it cannot read as mailsplit does', async () => {
    const cases = [
      // No close delimiter: mailsplit's reading of broken MIME is the reference.
      Buffer.from(withHtmlBody('<p>x</p>').toString().replace('--b1--', '')),
      // format=flowed is unfolded by mailsplit's own decoder.
      Buffer.from(
        'To: b@x.test\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\n\r\nBonjour \r\nAnne\r\n',
      ),
      // 8-bit bytes in quoted-printable: libqp reads them through a UTF-8 string.
      withHtmlBody('<p>caf\u00e9</p>'),
    ]
    for (const raw of cases) {
      expect(rewriteInPlace(raw, links)).toBeNull()
      expect((await rewriteMessage(raw, links)).injected).toBeGreaterThan(0)
    }
  })
})
