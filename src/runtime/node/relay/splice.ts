/**
 * @module The links put into one body without a stream: the body is decoded once to decide (the same
 * injectLinks as ever) and, when that only adds a footer, the footer alone is encoded and spliced
 * into the body as it came (quoted-printable and 8bit bodies in UTF-8: about every HTML mail). Other
 * bodies are decoded by their charset (charset.ts) and written anew as UTF-8, in one go. A body that
 * cannot be decoded exactly (an unknown transfer encoding, broken quoted-printable or base64, bytes
 * its charset has no character for) is not rewritten at all: it is forwarded as it came.
 */
import { isAscii } from 'node:buffer'
import type { MimeNode } from 'mailsplit'
import { footerIndex } from '../../../mail/inject-html.ts'
import { injectLinks, type InjectInput } from '../../../mail/inject.ts'
import { decodeText } from './charset.ts'
import { decodeBase64, decodeQp, encodeBase64, encodeQp, encodedOffset } from './qp.ts'
import type { Part } from './mime.ts'

const LF = 0x0a
const CR = 0x0d
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** RFC 5322 §2.1.1: 998 characters a line at most, which an 8bit body must keep to. */
const MAX_8BIT_LINE = 998
/** A line feed without a carriage return before it. */
const BARE_LF = /(?:^|[^\r])\n/

export type Links = Omit<InjectInput, 'html' | 'text'>

/**
 * The new body (null: the original stays, the links are in), whether it is now UTF-8 (its charset
 * label must say so), and the transfer encoding it needs when that changed.
 */
export interface NewBody {
  bytes: Buffer | null
  /** The text the new body decodes to: the original's with the links in. */
  text: string
  /** The original text, decoded. */
  original: string
  /** The new body is the original bytes with the footer put in at one place (proven by spliceQp). */
  spliced?: boolean
  utf8?: boolean
  encoding?: 'quoted-printable'
}

/** The body as the reader decodes it: its bytes after the transfer encoding, and its text. */
export interface DecodedBody {
  bytes: Buffer
  text: string
  /** Line starts of a quoted-printable body (see decodeQp), for the splice. */
  lines: number[]
}

/**
 * The bytes and text of a part's body, or null when they cannot be read exactly: a transfer
 * encoding other than 7bit, 8bit, binary, quoted-printable and base64, quoted-printable or base64
 * that is not well-formed ASCII, or bytes its charset has no character for.
 */
export function decodeBody(raw: Buffer, part: Part): DecodedBody | null {
  const { node } = part
  const body = raw.subarray(...part.body)
  const encoding = node.encoding || '7bit'
  const lines: number[] = []
  const bytes =
    encoding === 'quoted-printable'
      ? isAscii(body) && decodeQp(body, lines)
      : encoding === 'base64'
        ? isAscii(body) && decodeBase64(body)
        : ['7bit', '8bit', 'binary'].includes(encoding) && body
  if (!bytes) return null
  const text = decodeText(bytes, node.charset)
  return text === null ? null : { bytes, text, lines }
}

/**
 * The body of `part` with the links in, or null when it cannot be rewritten without losing a byte
 * (see decodeBody): the caller then forwards it untouched. format=flowed text stays flowed: the
 * footer's lines end without a space, so a reader does not join them to anything.
 */
export function rewriteBody(
  raw: Buffer,
  part: Part,
  kind: 'html' | 'text',
  links: Links,
): NewBody | null {
  const { node } = part
  const decoded = decodeBody(raw, part)
  if (!decoded) return null
  const { text, lines } = decoded
  const body = raw.subarray(...part.body)
  const encoding = node.encoding || '7bit'
  const out = injectLinks({ ...links, [kind]: text })[kind] ?? text
  if (out === text) return { bytes: null, text, original: text }
  const eol = raw[part.head[1] - 2] === CR ? '\r\n' : '\n'
  const spliceable = spliceableText(node, decoded.bytes)
  const at = spliceable !== undefined && footerAt(text, out, kind)
  if (at !== false && (encoding === 'quoted-printable' || encoding === '8bit')) {
    // The footer's lines end as the message's do (the HTML footer is written with LF).
    const insert = Buffer.from(out.slice(at, at + out.length - text.length).replace(/\r?\n/g, eol))
    const offset = decoded.bytes.length - Buffer.byteLength(text.slice(at))
    const spliced =
      encoding === '8bit'
        ? spliceRaw(body, offset, insert)
        : spliceQp(body, decoded.bytes, lines, offset, insert, eol)
    if (spliced && !part.delimiters.some((d) => opensLine(spliced, d)))
      return {
        bytes: spliced,
        text: text.slice(0, at) + insert.toString() + text.slice(at),
        original: text,
        spliced: true,
      }
  }
  // Written anew as UTF-8: base64 stays base64, anything else becomes quoted-printable. The footer's
  // lines end as the message's do, as in a splice, unless a line of the text ends in a bare LF (then
  // the footer keeps LF like it, and the original's bytes stay as they are).
  const anew = eol === '\r\n' && !BARE_LF.test(text) ? out.replace(/\r?\n/g, eol) : out
  const bytes =
    encoding === 'base64' ? encodeBase64(Buffer.from(anew), eol) : encodeQp(Buffer.from(anew), eol)
  // A root body keeps the line end it ended with (the body of a child never has one: the line end
  // before a boundary belongs to the boundary).
  const end = body[body.length - 1] === LF && bytes[bytes.length - 1] !== LF ? eol : ''
  return {
    bytes: end ? Buffer.concat([bytes, Buffer.from(end)]) : bytes,
    text: anew,
    original: text,
    utf8: true,
    ...(encoding === 'quoted-printable' || encoding === 'base64'
      ? {}
      : { encoding: 'quoted-printable' as const }),
  }
}

/** The text when its bytes are UTF-8 as they are (no BOM, nothing to replace): offsets map 1:1. */
function spliceableText(node: MimeNode, decoded: Buffer): string | undefined {
  const charset = (node.charset || 'utf-8').trim().toLowerCase()
  if (charset !== 'utf-8' && charset !== 'utf8') return undefined
  if (decoded[0] === 0xef && decoded[1] === 0xbb && decoded[2] === 0xbf) return undefined
  try {
    return strictUtf8.decode(decoded)
  } catch {
    return undefined
  }
}

/**
 * Where injectLinks put its footer when that is all it did: before the last </body> (HTML) or at
 * the end (text). False when it did more (placeholders filled).
 */
function footerAt(text: string, out: string, kind: 'html' | 'text'): number | false {
  const at = kind === 'html' ? footerIndex(text) : text.length
  const added = out.length - text.length
  const same = out.slice(0, at) === text.slice(0, at) && out.slice(at + added) === text.slice(at)
  return added > 0 && same ? at : false
}

/**
 * The footer, quoted-printable, on lines of its own at decoded byte `offset` of `body`, or null when
 * that cannot be shown to decode to the old body with the footer in.
 */
function spliceQp(
  body: Buffer,
  decoded: Buffer,
  lines: number[],
  offset: number,
  insert: Buffer,
  eol: string,
): Buffer | null {
  const at = encodedOffset(body, lines, offset)
  if (at < 0) return null
  const column = at - (body.lastIndexOf(LF, at - 1) + 1)
  // A soft break after the text before it: `=` must fit on that line (76 at most).
  if (column > 75) return null
  const tail = body.subarray(at)
  const encoded = encodeQp(insert, eol)
  const before = column > 0 ? `=${eol}` : ''
  const after = tail.length > 0 && encoded[encoded.length - 1] !== LF ? `=${eol}` : ''
  const spliced = Buffer.concat([
    body.subarray(0, at),
    Buffer.from(before),
    encoded,
    Buffer.from(after),
    tail,
  ])
  // The proof: the text before the last line start up to `at` is unchanged, and decoding goes line
  // by line, so decoding from there must give the old bytes with the footer at `offset`.
  let k = lines.length - 2
  while (k >= 0 && lines[k]! > at) k -= 2
  const [from, decodedFrom] = k >= 0 ? [lines[k]!, lines[k + 1]!] : [0, 0]
  const expected = [decoded.subarray(decodedFrom, offset), insert, decoded.subarray(offset)]
  return decodeQp(spliced.subarray(from))?.equals(Buffer.concat(expected)) ? spliced : null
}

/** The footer as it is into an 8bit body, when every line stays within the limit. */
function spliceRaw(body: Buffer, offset: number, insert: Buffer): Buffer | null {
  const spliced = Buffer.concat([body.subarray(0, offset), insert, body.subarray(offset)])
  for (let start = 0; start < spliced.length;) {
    const lf = spliced.indexOf(LF, start)
    const end = lf < 0 ? spliced.length : lf
    if (end - start - (spliced[end - 1] === CR ? 1 : 0) > MAX_8BIT_LINE) return null
    start = end + 1
  }
  return spliced
}

/** Whether `delimiter` starts a line of `body`, a bare CR counting as a line end (some readers' way). */
function opensLine(body: Buffer, delimiter: Buffer): boolean {
  for (let i = body.indexOf(delimiter); i >= 0; i = body.indexOf(delimiter, i + 1))
    if (i === 0 || body[i - 1] === LF || body[i - 1] === CR) return true
  return false
}
