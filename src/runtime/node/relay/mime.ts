/**
 * @module The MIME tree of a relayed message as byte ranges, found in one synchronous pass with
 * `indexOf` (mailsplit's splitter reads line by line, one `setImmediate` per line). It reads a part
 * exactly as mailsplit 5.4.6 does (its own MimeNode parses the headers) for the mail it accepts, and
 * gives up on anything else (null): the caller then takes mailsplit's streaming path.
 */
import MimeNode from 'mailsplit/lib/mime-node.js'

export interface Part {
  node: MimeNode
  /** [start, end) of the header block, the empty line that ends it included. */
  head: [number, number]
  /** [start, end) of the body as mailsplit gives it: the line end before a boundary is not in it. */
  body: [number, number]
  /** `--boundary` of every multipart the part is in: no line of its body may become one. */
  delimiters: Buffer[]
}

const LF = 0x0a
const CR = 0x0d
const DASH = 0x2d
// mailsplit's limits: past them its splitter fails, so such mail is left to it.
const MAX_NODES = 1000
const MAX_HEAD_SIZE = 1024 * 1024

/** The parts in document order (the root first), or null when mailsplit should read the message. */
export function splitParts(raw: Buffer): Part[] | null {
  const parts: Part[] = []
  const root = readPart(raw, false, 0, raw.length, [], parts)
  if (!root) return null
  root.body[1] = raw.length // the root's body keeps its last line end (mailsplit's too)
  return walk(raw, root, parts) && parts.length <= MAX_NODES ? parts : null
}

/** A part from its first header line to `end`; its body stops before the line end before `end`. */
function readPart(
  raw: Buffer,
  parent: MimeNode | false,
  start: number,
  end: number,
  delimiters: Buffer[],
  parts: Part[],
): Part | null {
  const headEnd = headerEnd(raw, start, end)
  if (headEnd < 0 || headEnd - start > MAX_HEAD_SIZE) return null
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

/** Reads the children of a multipart part; false when mailsplit might read them otherwise. */
function walk(raw: Buffer, part: Part, parts: Part[]): boolean {
  const { node } = part
  // A boundary on a non-multipart part still splits it in mailsplit: too odd to follow.
  if (!node.multipart) return !node._boundary
  if (!node._boundary) return true // mailsplit does not look inside: neither does the rewrite
  const delimiter = Buffer.concat([Buffer.from('--'), node._boundary])
  if (part.delimiters.some((d) => d.equals(delimiter))) return false
  const [start, end] = [part.head[1], part.body[1]]
  const lines = delimiterLines(raw, start, end, delimiter)
  // Well-formed only: at least one child, the close delimiter last, nothing read as one after it.
  if (!lines || lines.length < 2 || lines.some((l, i) => l.close !== (i === lines.length - 1)))
    return false
  const delimiters = [...part.delimiters, delimiter]
  for (let i = 0; i + 1 < lines.length; i++) {
    const child = readPart(raw, node, lines[i]!.end, lines[i + 1]!.start, delimiters, parts)
    if (!child || !walk(raw, child, parts)) return false
  }
  return true
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

/** The delimiter lines in [start, end) (which starts a line), or null on a line mailsplit reads oddly. */
function delimiterLines(raw: Buffer, start: number, end: number, delimiter: Buffer) {
  const lines: { start: number; end: number; close: boolean }[] = []
  for (
    let i = raw.indexOf(delimiter, start);
    i >= 0 && i < end;
    i = raw.indexOf(delimiter, i + 1)
  ) {
    if (i !== start && raw[i - 1] !== LF) {
      // mailsplit also matches at offset 2 of a line that starts with CR
      if (i - 2 >= start && raw[i - 2] === CR && (i - 2 === start || raw[i - 3] === LF)) return null
      continue
    }
    const lf = raw.indexOf(LF, i)
    const lineEnd = lf < 0 ? raw.length : lf + 1
    const kind = delimiterKind(raw, i, lineEnd, delimiter.length)
    if (kind) lines.push({ start: i, end: lineEnd, close: kind === 2 })
  }
  return lines
}

/**
 * mailsplit's compareBoundary: 1 for `--boundary` then the line end, 2 for `--boundary--` (then the
 * line end or the end of the message), 0 otherwise (trailing spaces make it 0, as there).
 */
function delimiterKind(raw: Buffer, at: number, lineEnd: number, delimiterLength: number) {
  const length = lineEnd - at
  if (length < delimiterLength + 1 || length > delimiterLength + 4) return 0
  let pos = 0
  for (let i = at + delimiterLength; i < lineEnd; i++, pos++) {
    const c = raw[i]
    if (pos === 0 && (c === CR || c === LF)) return 1
    if ((pos === 0 || pos === 1) && c !== DASH) return 0
    if (pos === 2 && c !== CR && c !== LF) return 0
    if (pos === 3 && c !== LF) return 0
  }
  return 2
}
