/**
 * Generated MIME trees for the relay's property tests (fast-check): each knows what every one of its
 * parts holds (the text a reader must see, the bytes of an attachment), so the relay's output can be
 * checked against the tree rather than against another parser's reading of the input. Some trees
 * are broken on purpose: a multipart never closed, the message cut short, a boundary reused inside
 * itself, a delimiter line with trailing blanks.
 */
import { isAscii } from 'node:buffer'
import fc from 'fast-check'

export type Charset = 'utf-8' | 'windows-1252' | 'iso-8859-1'
export type Transfer = '7bit' | '8bit' | 'quoted-printable' | 'base64'

export type Leaf =
  | { type: 'text' | 'html'; text: string; charset: Charset; transfer: Transfer }
  | { type: 'attachment'; bytes: Uint8Array; filename: string; contentType: string }

export interface Multipart {
  type: 'multipart'
  subtype: 'mixed' | 'alternative' | 'related'
  children: Tree[]
  preamble: string
  epilogue: string
}

export type Tree = Leaf | Multipart

export type Breakage = 'none' | 'unclosed' | 'truncated' | 'reused-boundary' | 'padded-delimiter'

/** windows-1252 for the characters the generator uses beyond Latin-1. */
const CP1252 = new Map([
  ['€', 0x80],
  ['’', 0x92],
  ['“', 0x93],
  ['”', 0x94],
  ['–', 0x96],
])

export function encodeCharset(text: string, charset: Charset): Buffer {
  if (charset === 'utf-8') return Buffer.from(text, 'utf8')
  return Buffer.from(Array.from(text, (ch) => CP1252.get(ch) ?? ch.codePointAt(0)!))
}

/** Quoted-printable (RFC 2045 §6.7), soft breaks at 76, CRLF kept as line ends. */
export function encodeQuotedPrintable(bytes: Uint8Array): string {
  const lines: string[] = []
  let line = ''
  const push = (piece: string) => {
    if (line.length + piece.length > 75) {
      lines.push(`${line}=`)
      line = ''
    }
    line += piece
  }
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    if (b === 0x0d && bytes[i + 1] === 0x0a) {
      lines.push(line)
      line = ''
      i++
      continue
    }
    const atLineEnd = i + 1 === bytes.length || bytes[i + 1] === 0x0d
    const literal =
      (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !atLineEnd)
    push(literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`)
  }
  lines.push(line)
  return lines.join('\r\n')
}

const wrap76 = (s: string) => s.match(/.{1,76}/g)?.join('\r\n') ?? ''

/** Characters a part may hold, per charset (Latin-1 text stays in Latin-1's printable range). */
const PIECES: Record<Charset, string[]> = {
  'utf-8': [
    'Bonjour',
    ' ',
    'café',
    '✓',
    '“guillemets”',
    '€',
    '=',
    '--',
    'From ',
    '</p>',
    '\r\n',
    'x'.repeat(80),
  ],
  'windows-1252': [
    'Bonjour',
    ' ',
    'café',
    '“guillemets”',
    '€ 5',
    '–',
    '=',
    '--',
    '\r\n',
    'y'.repeat(80),
  ],
  'iso-8859-1': ['Bonjour', ' ', 'crème brûlée', '=', '--', '\r\n', 'z'.repeat(70)],
}

const textOf = (charset: Charset, ascii: boolean) =>
  fc
    .array(fc.constantFrom(...PIECES[charset].filter((p) => !ascii || isAscii(Buffer.from(p)))), {
      minLength: 1,
      maxLength: 10,
    })
    .map((pieces) => pieces.join('').replace(/^\r\n|\r\n$/g, '') || 'x')

const leaf: fc.Arbitrary<Leaf> = fc.oneof(
  fc
    .record({
      type: fc.constantFrom('text' as const, 'html' as const),
      charset: fc.constantFrom<Charset>('utf-8', 'windows-1252', 'iso-8859-1'),
      transfer: fc.constantFrom<Transfer>('7bit', '8bit', 'quoted-printable', 'base64'),
    })
    .chain((l) =>
      textOf(l.charset, l.transfer === '7bit').map((text) => ({
        ...l,
        text: l.type === 'html' ? `<html><body><p>${text}</p></body></html>` : text,
      })),
    ),
  fc.record({
    type: fc.constant('attachment' as const),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 600 }),
    filename: fc.constantFrom('tarifs.pdf', 'logo.png', 'notes.txt'),
    contentType: fc.constantFrom('application/pdf', 'image/png', 'text/plain'),
  }),
)

export const trees: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({
      type: fc.constant('multipart' as const),
      subtype: fc.constantFrom('mixed' as const, 'alternative' as const, 'related' as const),
      children: fc.array(tie('tree'), { minLength: 1, maxLength: 3 }),
      preamble: fc.constantFrom('', 'This is a multi-part message in MIME format.'),
      epilogue: fc.constantFrom('', 'epilogue'),
    }),
  ),
})).tree

/** Every leaf of the tree, in document order. */
export function leaves(tree: Tree): Leaf[] {
  return tree.type === 'multipart' ? tree.children.flatMap(leaves) : [tree]
}

/**
 * The message: `To:` and `Subject:` on top of the tree, CRLF line ends, broken as asked. `broken`
 * says whether the breakage could be made (a tree without a nested multipart cannot reuse a
 * boundary); a cut message is broken unless the cut falls after the last closing delimiter.
 */
export function serialize(
  tree: Tree,
  breakage: Breakage,
  cut = 0.5,
): { raw: Buffer; broken: boolean | 'maybe' } {
  let n = 0
  let broken = false
  const parentBoundaries: string[] = []
  function part(t: Tree): Buffer {
    if (t.type !== 'multipart') return leafBytes(t)
    let boundary = `=_b${n++}`
    if (breakage === 'reused-boundary' && !broken && parentBoundaries.length) {
      boundary = parentBoundaries.at(-1)!
      broken = true
    }
    parentBoundaries.push(boundary)
    const children = t.children.map(part)
    parentBoundaries.pop()
    const padded = breakage === 'padded-delimiter' && !broken
    const unclosed = breakage === 'unclosed' && !broken
    if (padded || unclosed) broken = true
    const chunks: Buffer[] = [
      Buffer.from(
        `Content-Type: multipart/${t.subtype}; boundary="${boundary}"\r\n\r\n` +
          (t.preamble ? `${t.preamble}\r\n` : ''),
      ),
    ]
    children.forEach((child, i) => {
      chunks.push(Buffer.from(`--${boundary}${padded && i === 0 ? '  ' : ''}\r\n`), child)
      chunks.push(Buffer.from('\r\n'))
    })
    if (!unclosed) chunks.push(Buffer.from(`--${boundary}--\r\n${t.epilogue}`))
    return Buffer.concat(chunks)
  }
  const raw = Buffer.concat([
    Buffer.from(
      'From: news@acme.test\r\nTo: anne@exemple.fr\r\nSubject: Test\r\nMIME-Version: 1.0\r\n',
    ),
    part(tree),
  ])
  if (breakage === 'truncated')
    return { raw: raw.subarray(0, Math.max(1, Math.floor(raw.length * cut))), broken: 'maybe' }
  return { raw, broken }
}

function leafBytes(l: Leaf): Buffer {
  if (l.type === 'attachment')
    return Buffer.from(
      `Content-Type: ${l.contentType}; name="${l.filename}"\r\n` +
        `Content-Disposition: attachment; filename="${l.filename}"\r\n` +
        `Content-Transfer-Encoding: base64\r\n\r\n${wrap76(Buffer.from(l.bytes).toString('base64'))}`,
    )
  const bytes = encodeCharset(l.text, l.charset)
  const body =
    l.transfer === 'base64'
      ? wrap76(bytes.toString('base64'))
      : l.transfer === 'quoted-printable'
        ? encodeQuotedPrintable(bytes)
        : bytes.toString('latin1')
  return Buffer.from(
    `Content-Type: text/${l.type === 'html' ? 'html' : 'plain'}; charset=${l.charset}\r\n` +
      `Content-Transfer-Encoding: ${l.transfer}\r\n\r\n${body}`,
    'latin1',
  )
}
