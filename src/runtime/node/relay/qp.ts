/**
 * @module Transfer encodings for the relay's in-place rewrite: strict decoders that read as libqp
 * 2.1.1 and libbase64 1.3.0 (what mailparser and nodemailer use) on the text they accept and refuse
 * the rest (the body is then forwarded as it came), the decoded → encoded offset map that says where
 * a footer goes in quoted-printable, and encoders.
 */

const LF = 0x0a
const CR = 0x0d
const EQ = 0x3d
const isWs = (c: number | undefined) => c === 0x20 || c === 0x09
const hexValue = (c: number | undefined) => (c === undefined ? -1 : HEX[c]!)
/** The value of a hex digit (either case) by byte, -1 for other bytes. */
const HEX = new Int8Array(256).fill(-1)
for (let i = 0; i < 16; i++)
  HEX['0123456789ABCDEF'.charCodeAt(i)] = HEX['0123456789abcdef'.charCodeAt(i)] = i
/** What decodeQp does at a byte: a table lookup beats comparisons in its loop. */
const [OTHER, EQUALS, SPACE, NEWLINE] = [0, 1, 2, 3]
const KIND = new Uint8Array(256)
KIND[EQ] = EQUALS
KIND[0x20] = KIND[0x09] = SPACE
KIND[LF] = NEWLINE
// Plain Uint8Array views: V8 indexes them several times faster than Buffer (a subclass) here.
const view = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.length)

/**
 * Decodes well-formed quoted-printable exactly as libqp 2.1.1 does:
 * whitespace before a line end or the end dropped, soft breaks (`=`, whitespace, then CRLF, LF or the
 * end) dropped, `=XX` decoded, any other byte kept. One pass, so `=` followed by anything else is
 * refused (null): libqp's three passes read such text in ways one pass cannot follow. ASCII input
 * only (the caller checks): libqp reads other bytes through a UTF-8 string.
 * @param lines when given, gets [encoded, decoded] offsets of every line start, for encodedOffset.
 */
export function decodeQp(encoded: Uint8Array, lines?: number[]): Buffer | null {
  const src = view(encoded)
  const n = src.length
  const out = new Uint8Array(n)
  let w = 0
  for (let r = 0; r < n;) {
    const c = src[r]!
    const kind = KIND[c]!
    if (kind === OTHER) {
      out[w++] = c
      r++
    } else if (kind === EQUALS) {
      if (r + 2 < n) {
        const hi = HEX[src[r + 1]!]!
        const lo = HEX[src[r + 2]!]!
        if ((hi | lo) >= 0) {
          out[w++] = (hi << 4) | lo
          r += 3
          continue
        }
      }
      let j = r + 1
      while (j < n && KIND[src[j]!] === SPACE) j++
      if (j === n) break
      if (src[j] === LF) r = j + 1
      else if (src[j] === CR && src[j + 1] === LF) r = j + 2
      else return null
      lines?.push(r, w)
    } else if (kind === SPACE) {
      let j = r + 1
      while (j < n && KIND[src[j]!] === SPACE) j++
      if (j === n || src[j] === LF || src[j] === CR) r = j
      else while (r < j) out[w++] = src[r++]!
    } else {
      out[w++] = c
      r++
      lines?.push(r, w)
    }
  }
  return Buffer.from(out.buffer, 0, w)
}

/**
 * Where decoded byte `target` starts in the encoded text: the first offset from which the bytes
 * before decode to `target` bytes (so before a soft break or line-end whitespace that follows them).
 * @param lines the line starts decodeQp gave for this text: the walk starts at the last before target.
 * @returns an offset in `encoded`, or -1 when the decoded text is shorter.
 */
export function encodedOffset(encoded: Uint8Array, lines: number[], target: number): number {
  const src = view(encoded)
  const n = src.length
  let [i, decoded] = [0, 0]
  for (let k = 0; k < lines.length && lines[k + 1]! < target; k += 2)
    [i, decoded] = [lines[k]!, lines[k + 1]!]
  while (i < n) {
    if (decoded === target) return i
    const c = src[i]!
    if (c === EQ) {
      if (hexValue(src[i + 1]) >= 0 && hexValue(src[i + 2]) >= 0) {
        i += 3
        decoded++
        continue
      }
      let j = i + 1
      while (isWs(src[j])) j++
      i = j === n ? n : src[j] === LF ? j + 1 : j + 2 // decodeQp took it: a soft break
      continue
    }
    if (c === 0x20 || c === 0x09) {
      let j = i + 1
      while (isWs(src[j])) j++
      if (j === n || src[j] === LF || src[j] === CR) {
        i = j
        continue
      }
    }
    i++
    decoded++
  }
  return decoded === target ? n : -1
}

const HEX_DIGITS = Buffer.from('0123456789ABCDEF', 'latin1')

/**
 * Quoted-printable of bytes that start a line: lines of 76 at most, line breaks kept as they are,
 * whitespace before a line end or the end encoded, and a `-` that would start a line encoded too (a
 * line starting `--` could read as a MIME boundary). For a footer, or a whole body written anew.
 */
export function encodeQp(bytes: Uint8Array, eol: string): Buffer {
  const src = view(bytes)
  const n = src.length
  // Three characters a byte at most, and a soft break every 73 or more.
  const out = new Uint8Array(n * 4 + 8)
  const softBreak = Buffer.from(`=${eol}`, 'latin1')
  let [w, column] = [0, 0]
  for (let i = 0; i < n; i++) {
    const c = src[i]!
    const next = i + 1 < n ? src[i + 1]! : -1
    if (c === LF || (c === CR && next === LF)) {
      out[w++] = c
      if (c === LF) column = 0
      continue
    }
    let literal = c === 0x09 || (c >= 0x20 && c <= 0x7e && c !== EQ)
    if (literal && isWs(c) && (next === -1 || next === LF || next === CR)) literal = false
    if (column + (literal ? 1 : 3) > 75) {
      out.set(softBreak, w)
      w += softBreak.length
      column = 0
    }
    if (literal && !(column === 0 && c === 0x2d)) {
      out[w++] = c
      column++
    } else {
      out[w++] = EQ
      out[w++] = HEX_DIGITS[c >> 4]!
      out[w++] = HEX_DIGITS[c & 15]!
      column += 3
    }
  }
  return Buffer.from(out.buffer, 0, w)
}

/**
 * Decodes base64 as libbase64 1.3.0 does, for ASCII text whose padding
 * ends it: libbase64 decodes in groups of four, which only then is one decode of the whole.
 */
export function decodeBase64(encoded: Buffer): Buffer | null {
  let text = encoded.toString('latin1')
  if (/[^a-zA-Z0-9+/=]/.test(text)) text = text.replace(/[^a-zA-Z0-9+/=]/g, '')
  const padding = text.indexOf('=')
  if (text.length % 4 || (padding >= 0 && !/^={1,2}$/.test(text.slice(padding)))) return null
  return Buffer.from(text, 'base64')
}

/** Base64 on lines of 76, as libbase64 writes it. */
export function encodeBase64(bytes: Buffer, eol: string): Buffer {
  const text = bytes.toString('base64')
  const lines: string[] = []
  for (let i = 0; i < text.length; i += 76) lines.push(text.slice(i, i + 76))
  return Buffer.from(lines.join(eol), 'latin1')
}
