/**
 * @module The DKIM signature of relayed mail (RFC 6376: rsa-sha256, relaxed/relaxed), made here
 * rather than by nodemailer because some fields must be oversigned: named in `h=` once more than
 * the message has them (RFC 6376 §5.4.2, §8.15), so that a `List-Unsubscribe` or a `From` added later
 * (a forwarder, an attacker prepending its own unsubscribe link) breaks the signature. RFC 8058 §4
 * wants both List-Unsubscribe headers covered; nodemailer names each field once, whatever it is told.
 */
import { createHash, sign } from 'node:crypto'

export interface DkimKey {
  domainName: string
  keySelector: string
  privateKey: string
}

/** Signed when present, in this order. */
export const DKIM_HEADER_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'In-Reply-To',
  'References',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
]

/** Named once more than present: no second one can be added without breaking the signature. */
export const OVERSIGNED = ['From', 'List-Unsubscribe', 'List-Unsubscribe-Post']

const LF = 0x0a
const CR = 0x0d
const SP = 0x20
const TAB = 0x09

/**
 * The message with a DKIM-Signature field on top, every line end made CRLF first: the SMTP client
 * sends a bare CR or LF as CRLF (nodemailer's DATA stream, lib/smtp-connection/data-stream.js), and
 * the receiver's verifier hashes what arrived, where a lone CR signed as content would have become a
 * line end (RFC 5322 §2.3 allows CR and LF only together; some tools still write old Mac line ends).
 */
export function dkimSign(message: Buffer, key: DkimKey, now = Date.now()): Buffer {
  const raw = crlfLineEnds(message)
  const headEnd = headerBlockEnd(raw)
  const fields = headerFields(raw.subarray(0, headEnd).toString('latin1'))
  const bodyHash = createHash('sha256')
    .update(relaxedBody(raw.subarray(headEnd)))
    .digest('base64')

  const names: string[] = []
  for (const name of DKIM_HEADER_FIELDS) {
    const count = fields.filter((f) => f.name === name.toLowerCase()).length
    const times = count + (OVERSIGNED.includes(name) ? 1 : 0)
    for (let i = 0; i < times; i++) names.push(name)
  }
  // RFC 6376 §5.4.2: each name takes the next instance from the bottom; none left, nothing.
  const used = new Map<string, number>()
  let signed = ''
  for (const name of names) {
    const lower = name.toLowerCase()
    const instances = fields.filter((f) => f.name === lower)
    const taken = used.get(lower) ?? 0
    used.set(lower, taken + 1)
    const field = instances[instances.length - 1 - taken]
    if (field) signed += `${lower}:${relaxedValue(field.value)}\r\n`
  }
  // A tag value must not close its tag or the field: printable ASCII only, no `;` or `=`.
  const clean = (s: string) => s.replace(/[^!-~]|[;=]/g, '')
  const tags = [
    'v=1',
    'a=rsa-sha256',
    'c=relaxed/relaxed',
    `d=${clean(key.domainName).toLowerCase()}`,
    `s=${clean(key.keySelector)}`,
    `t=${Math.floor(now / 1000)}`,
    `bh=${bodyHash}`,
    `h=${names.join(':')}`,
  ]
  const unsigned = `DKIM-Signature: ${tags.join(';\r\n ')};\r\n b=`
  signed += `dkim-signature:${relaxedValue(unsigned.slice(unsigned.indexOf(':') + 1))}`
  const signature = sign('sha256', Buffer.from(signed, 'latin1'), key.privateKey).toString('base64')
  const folded = signature.match(/.{1,72}/g)!.join('\r\n  ')
  return Buffer.concat([Buffer.from(`${unsigned}${folded}\r\n`, 'latin1'), raw])
}

/** `raw` with each bare CR or bare LF made CRLF; `raw` itself when it has none (the usual case). */
export function crlfLineEnds(raw: Buffer): Buffer {
  const missing: number[] = [] // where an LF (after a bare CR) or a CR (before a bare LF) goes
  for (let i = raw.indexOf(CR); i >= 0; i = raw.indexOf(CR, i + 1))
    if (raw[i + 1] !== LF) missing.push(i + 1)
  for (let i = raw.indexOf(LF); i >= 0; i = raw.indexOf(LF, i + 1))
    if (raw[i - 1] !== CR) missing.push(i)
  if (missing.length === 0) return raw
  missing.sort((a, b) => a - b)
  const out = Buffer.allocUnsafe(raw.length + missing.length)
  let from = 0
  let w = 0
  for (const at of missing) {
    w += raw.copy(out, w, from, at)
    out[w++] = raw[at - 1] === CR ? LF : CR
    from = at
  }
  raw.copy(out, w, from)
  return out
}

/** Index of the body: after the empty line that ends the header block (the end when none). */
function headerBlockEnd(raw: Buffer): number {
  for (let i = 0; i < raw.length;) {
    const lf = raw.indexOf(LF, i)
    if (lf < 0) return raw.length
    if (lf === i || (lf === i + 1 && raw[i] === CR)) return lf + 1
    i = lf + 1
  }
  return raw.length
}

/** Header fields in order: lower-cased name, value with its folding. */
function headerFields(head: string): { name: string; value: string }[] {
  const fields: { name: string; value: string }[] = []
  for (const line of head.split(/\r?\n(?![ \t])/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    fields.push({
      name: line.slice(0, colon).trim().toLowerCase(),
      value: line.slice(colon + 1),
    })
  }
  return fields
}

/** RFC 6376 §3.4.2: unfolded, runs of blanks one space, none at either end. */
function relaxedValue(value: string): string {
  return value
    .replace(/\r?\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '')
}

/**
 * RFC 6376 §3.4.4: blanks at a line end dropped, runs of blanks one space, every line ending CRLF,
 * empty lines at the end dropped. A line ends at LF (CRLF or bare, though dkimSign has made every
 * line end CRLF already); a lone CR is content.
 */
function relaxedBody(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(body.length * 2 + 2)
  let w = 0
  let lineStart = true
  let pendingSpace = false
  let emptyLines = 0
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c === LF || (c === CR && body[i + 1] === LF)) {
      if (c === CR) i++
      if (lineStart) emptyLines++
      else {
        out[w++] = CR
        out[w++] = LF
      }
      lineStart = true
      pendingSpace = false
      continue
    }
    if (c === SP || c === TAB) {
      pendingSpace = true
      continue
    }
    if (lineStart) {
      for (; emptyLines > 0; emptyLines--) {
        out[w++] = CR
        out[w++] = LF
      }
      lineStart = false
    }
    if (pendingSpace) out[w++] = SP
    pendingSpace = false
    out[w++] = c
  }
  if (!lineStart) {
    out[w++] = CR
    out[w++] = LF
  }
  return out.subarray(0, w)
}
