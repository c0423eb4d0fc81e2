/**
 * @module The MIME tree of a relayed message as byte ranges, found in one synchronous pass with
 * `indexOf` (mailsplit's MimeNode parses each header block). Only mail that every reader splits the
 * same way is read: delimiter lines as RFC 2046 §5.1.1 has them, each multipart closed, no bare CR
 * or trailing blanks that make a line a delimiter to one reader and text to another (Python's
 * `email` and mailsplit disagree there), no boundary reused inside itself. Anything else is refused
 * with the reason (MimeRefusal): a relay that guesses at a broken tree forwards a message that lost
 * parts (an unclosed multipart/alternative swallowed the attachment after it).
 */
import MimeNode from 'mailsplit/lib/mime-node.js'

export interface Part {
  node: MimeNode
  /** [start, end) of the header block, the empty line that ends it included. */
  head: [number, number]
  /** [start, end) of the body: the line end before a delimiter belongs to the delimiter. */
  body: [number, number]
  /** `--boundary` of every multipart the part is in: no line of its body may become one. */
  delimiters: Buffer[]
}

/** Why a message cannot be changed safely: the relay answers 554 with this reason. */
export class MimeRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason)
    this.name = 'MimeRefusal'
  }
}

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d
const SP = 0x20
const TAB = 0x09
const MAX_NODES = 1000
const MAX_HEAD_SIZE = 1024 * 1024

/**
 * The parts in document order (the root first).
 * @throws MimeRefusal when the tree is not one every reader splits alike.
 */
export function splitParts(raw: Buffer): Part[] {
  const parts: Part[] = []
  const root = readPart(raw, false, 0, raw.length, [], parts)
  root.body[1] = raw.length // the root's body keeps its last line end
  walk(raw, root, parts)
  if (parts.length > MAX_NODES) throw new MimeRefusal(`more than ${MAX_NODES} MIME parts`)
  return parts
}

/** A part from its first header line to `end`; its body stops before the line end before `end`. */
function readPart(
  raw: Buffer,
  parent: MimeNode | false,
  start: number,
  end: number,
  delimiters: Buffer[],
  parts: Part[],
): Part {
  const headEnd = headerEnd(raw, start, end)
  if (headEnd < 0) throw new MimeRefusal('a header block has no empty line after it')
  if (headEnd - start > MAX_HEAD_SIZE) throw new MimeRefusal('a header block is larger than 1 MB')
  const node = new MimeNode(parent, {})
  node.addHeaderChunk(raw.subarray(start, headEnd))
  node.parseHeaders()
  const eol = end > start && raw[end - 1] === LF ? (raw[end - 2] === CR ? 2 : 1) : 0
  const part: Part = {
    node,
    head: [start, headEnd],
    body: [headEnd, Math.max(headEnd, end - eol)],
    delimiters,
  }
  parts.push(part)
  return part
}

/** Reads the children of a multipart part. */
function walk(raw: Buffer, part: Part, parts: Part[]): void {
  const { node } = part
  if (!node.multipart) {
    if (node._boundary) throw new MimeRefusal('a part that is not multipart declares a boundary')
    return
  }
  if (!node._boundary) throw new MimeRefusal(`a multipart/${node.multipart} part has no boundary`)
  const delimiter = Buffer.concat([Buffer.from('--'), node._boundary])
  if (part.delimiters.some((d) => d.equals(delimiter)))
    throw new MimeRefusal('a nested multipart reuses the boundary of a multipart around it')
  const [start, end] = [part.head[1], part.body[1]]
  const lines = delimiterLines(raw, start, end, delimiter)
  if (lines.length === 0 || lines[lines.length - 1]!.close === false)
    throw new MimeRefusal(`a multipart/${node.multipart} boundary is never closed`)
  if (lines.length < 2) throw new MimeRefusal(`a multipart/${node.multipart} part has no parts`)
  if (lines.some((l, i) => l.close && i !== lines.length - 1))
    throw new MimeRefusal(`a multipart/${node.multipart} part goes on after its closing boundary`)
  const delimiters = [...part.delimiters, delimiter]
  for (let i = 0; i + 1 < lines.length; i++) {
    const child = readPart(raw, node, lines[i]!.end, lines[i + 1]!.start, delimiters, parts)
    walk(raw, child, parts)
  }
}

/** Index after the empty line that ends the header block at `start`, or -1. */
function headerEnd(raw: Buffer, start: number, end: number): number {
  for (let i = start; i < end;) {
    const lf = raw.indexOf(LF, i)
    if (lf < 0 || lf >= end) return -1
    if (lf === i || (lf === i + 1 && raw[i] === CR)) return lf + 1
    i = lf + 1
  }
  return -1
}

/**
 * The delimiter lines in [start, end) (which starts a line): `--boundary` or `--boundary--`, then the
 * line end (or the end of the message). A delimiter after a bare CR, or followed by blanks only, is
 * one to some readers and text to others: refused.
 */
function delimiterLines(raw: Buffer, start: number, end: number, delimiter: Buffer) {
  const lines: { start: number; end: number; close: boolean }[] = []
  for (
    let i = raw.indexOf(delimiter, start);
    i >= 0 && i < end;
    i = raw.indexOf(delimiter, i + 1)
  ) {
    const lf = raw.indexOf(LF, i)
    const lineEnd = lf < 0 ? raw.length : lf + 1
    const kind = delimiterKind(raw, i + delimiter.length, lineEnd)
    if (i !== start && raw[i - 1] !== LF) {
      // Readers that take a bare CR for a line end (Python's email) see a delimiter here.
      if (raw[i - 1] === CR && kind !== 'text') throw new MimeRefusal(AMBIGUOUS)
      continue
    }
    if (kind === 'ambiguous') throw new MimeRefusal(AMBIGUOUS)
    if (kind !== 'text') lines.push({ start: i, end: lineEnd, close: kind === 'close' })
  }
  return lines
}

const AMBIGUOUS =
  'a boundary line has a bare CR or trailing blanks, which readers split differently'

/** What follows `--boundary` on its line, from `at` to `lineEnd` (after the LF, or the end). */
function delimiterKind(
  raw: Buffer,
  at: number,
  lineEnd: number,
): 'open' | 'close' | 'ambiguous' | 'text' {
  let i = at
  const close = raw[i] === DASH && raw[i + 1] === DASH
  if (close) i += 2
  const blanksFrom = i
  while (i < lineEnd && (raw[i] === SP || raw[i] === TAB)) i++
  const padded = i > blanksFrom
  // The line must end here: LF, CRLF, or the end of the message.
  if (i === lineEnd || raw[i] === LF || (raw[i] === CR && (raw[i + 1] === LF || i + 1 === lineEnd)))
    return padded ? 'ambiguous' : close ? 'close' : 'open'
  // A bare CR then more: a line end to some readers.
  if (raw[i] === CR) return 'ambiguous'
  return 'text'
}
