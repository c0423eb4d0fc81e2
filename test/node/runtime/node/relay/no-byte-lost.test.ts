// The relay never hands over a changed message that lost a byte of the original (issue 17, item 1):
// for any MIME tree, broken ones included, the rewrite either refuses the message (MimeRefusal, the
// relay's 554) or gives one in which a mail client finds every part of the original.
import fc from 'fast-check'
import { simpleParser, type ParsedMail } from 'mailparser'
import { describe, expect, it } from 'vitest'
import { HTML_FOOTER_END, HTML_FOOTER_START } from '../../../../../src/mail/inject.ts'
import { MimeRefusal, rewriteMessage } from '../../../../../src/runtime/node/relay/rewrite.ts'
import {
  leaves,
  serialize,
  trees,
  type Breakage,
  type Leaf,
} from '../../../../helpers/mime-trees.ts'

const links = {
  locale: 'fr' as const,
  org: 'ACME',
  unsubscribeUrl: 'https://gateway.test/u/tok',
  preferencesUrl: 'https://gateway.test/p/tok',
  listId: 'newsletter.gateway.test',
}

const lf = (s: string) => s.replace(/\r\n/g, '\n')
const withoutFooters = (html: string) =>
  html.replace(new RegExp(`${HTML_FOOTER_START}[\\s\\S]*?${HTML_FOOTER_END}\\n?`, 'g'), '')

/** Where a reader finds each part of the original in the relay's output; the first one missing. */
function missingPart(parsed: ParsedMail, parts: Leaf[]): Leaf | undefined {
  const text = lf(parsed.text ?? '')
  const html = lf(withoutFooters(parsed.html || ''))
  return parts.find((p) => {
    if (p.type === 'attachment')
      return !parsed.attachments.some((a) => a.content.equals(Buffer.from(p.bytes)))
    const want = lf(p.text).replace(/\n+$/, '')
    return !(p.type === 'html' ? html : text).includes(want)
  })
}

describe('the relay rewrite loses no byte', () => {
  it('refuses or keeps every part, for any tree, broken ones included', async () => {
    const seen = { refused: 0, kept: 0 }
    await fc.assert(
      fc.asyncProperty(
        trees,
        fc.constantFrom<Breakage>(
          'none',
          'none',
          'unclosed',
          'truncated',
          'reused-boundary',
          'padded-delimiter',
        ),
        fc.double({ min: 0.3, max: 0.999, noNaN: true }),
        async (tree, breakage, cut) => {
          const asked = tree.type === 'multipart' ? breakage : 'none' // a cut leaf is just shorter
          const { raw, broken } = serialize(tree, asked, cut)
          let message: Buffer
          try {
            message = rewriteMessage(raw, links).message
          } catch (err) {
            expect(err).toBeInstanceOf(MimeRefusal)
            expect(broken).not.toBe(false) // well-formed mail is never refused
            seen.refused++
            return
          }
          expect(broken).not.toBe(true) // broken mail is never changed
          const parsed = await simpleParser(message)
          expect(missingPart(parsed, leaves(tree))).toBeUndefined()
          seen.kept++
        },
      ),
      { numRuns: 300 },
    )
    expect(seen.refused).toBeGreaterThan(20)
    expect(seen.kept).toBeGreaterThan(100)
  })

  it('refuses the unclosed multipart/alternative that swallowed a 40 KB attachment', () => {
    const attachment = Buffer.alloc(40_000, 0x41)
    const { raw } = serialize(
      {
        type: 'multipart',
        subtype: 'mixed',
        preamble: '',
        epilogue: '',
        children: [
          {
            type: 'multipart',
            subtype: 'alternative',
            preamble: '',
            epilogue: '',
            children: [
              { type: 'text', text: 'Bonjour', charset: 'utf-8', transfer: '7bit' },
              {
                type: 'html',
                text: '<html><body><p>Bonjour</p></body></html>',
                charset: 'utf-8',
                transfer: '7bit',
              },
            ],
          },
          { type: 'attachment', bytes: attachment, filename: 'a.bin', contentType: 'image/png' },
        ],
      },
      'unclosed',
    )
    // The inner multipart is serialized first: it is the one left open.
    expect(raw.toString()).toContain('--=_b0--')
    expect(raw.toString()).not.toContain('--=_b1--')
    expect(() => rewriteMessage(raw, links)).toThrow(/boundary is never closed/)
  })
})
