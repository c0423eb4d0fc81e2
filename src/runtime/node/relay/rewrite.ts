/**
 * @module Rewrites a relayed message without breaking its MIME: every part but the first text/html
 * and the first text/plain body comes out byte for byte as it went in (attachments, related images),
 * in one synchronous pass (mime.ts finds the parts, splice.ts puts the footer into the encoded
 * bodies). The rule is that no changed message ever loses a byte of the original: mail whose tree is
 * not one every reader splits alike is refused (MimeRefusal, the relay's 554), a body that cannot be
 * decoded exactly is left as it came (the other body still carries the links), and the result is
 * read again and compared with the original before it is handed over.
 */
import { Headers } from 'mailsplit'
import { escapeAttribute } from '../../../mail/inject-html.ts'
import { fillPlaceholders } from '../../../mail/inject-links.ts'
import { listIdFor, type InjectInput } from '../../../mail/inject.ts'
import { MimeRefusal, splitParts, type Part } from './mime.ts'
import { decodeBody, rewriteBody, type NewBody } from './splice.ts'
import { encodingOf } from './charset.ts'

export { MimeRefusal }

/** Names the purpose per message (Mautic has one mail-server setting, but custom headers per e-mail). */
export const PURPOSE_HEADER = 'X-Consent-Purpose'

/** Headers the gateway owns: dropped from the original and, for the list headers, written anew. */
const REPLACED = [PURPOSE_HEADER, 'DKIM-Signature', 'List-Unsubscribe', 'List-Unsubscribe-Post']

export type RewriteInput = Omit<InjectInput, 'html' | 'text'> & {
  listId: string
  /** The gateway's own `mailto:` (UNSUBSCRIBE_MAILTO): it replaces one the sender put there. */
  mailto?: string
}

/** The root header block: everything before the first empty line (the whole input when none). */
export function rootHeaders(raw: Buffer): Headers {
  const ends = [raw.indexOf('\n\n'), raw.indexOf('\n\r\n')].filter((i) => i >= 0)
  return new Headers(raw.subarray(0, ends.length ? Math.min(...ends) + 1 : raw.length))
}

/** The `mailto:` of an existing List-Unsubscribe (Mautic's), kept beside the gateway's URL. */
export function keptMailto(lines: string[]): string | undefined {
  for (const line of lines)
    for (const m of line.matchAll(/<([^>]*)>/g)) {
      const uri = m[1]!.replace(/\s+/g, '')
      if (/^mailto:[^<>",]+$/i.test(uri)) return uri
    }
  return undefined
}

/**
 * RFC 8058 §3.1: ONE List-Unsubscribe, the https URL first. Any earlier one (Mautic adds its own), the
 * purpose header and the DKIM signature the rewrite breaks are removed; the list headers are appended.
 */
function editRootHeaders(headers: Headers, input: RewriteInput): void {
  const mailto = input.mailto ?? keptMailto(headers.get('list-unsubscribe'))
  for (const key of [...REPLACED, 'List-Id']) headers.remove(key)
  const uris = [input.unsubscribeUrl, ...(mailto ? [mailto] : [])]
  const at = headers.getList().length
  headers.add('List-Unsubscribe', uris.map((u) => `<${u}>`).join(', '), at)
  headers.add('List-Unsubscribe-Post', 'List-Unsubscribe=One-Click', at + 1)
  headers.add('List-Id', `<${listIdFor(input.listId)}>`, at + 2)
}

/** The body a part is: 'html', 'text', or null for containers, attachments and unknown charsets. */
function partKind(node: Part['node']): 'html' | 'text' | null {
  if (node.multipart || node.disposition === 'attachment') return null
  if (node.charset && !encodingOf(node.charset)) return null
  return node.contentType === 'text/html'
    ? 'html'
    : node.contentType === 'text/plain'
      ? 'text'
      : null
}

export interface Rewritten {
  message: Buffer
  /** How many bodies got the links (0: the message had no body to put them in). */
  injected: number
  /** Bodies that could have taken the links but cannot be decoded exactly: forwarded as they came. */
  untouched: ('html' | 'text')[]
}

/**
 * The message with the links in its first HTML and first text body and the list headers on top.
 * A rewritten body is decoded from its charset and transfer encoding, and written back as UTF-8 in
 * the same encoding (quoted-printable when it was 7bit/8bit, so long lines stay legal); but when the
 * links only add a footer to a UTF-8 quoted-printable or 8bit body, the body keeps its bytes and
 * encoding, and the footer is spliced in. Both ways decode to the original text with the links in.
 * @throws MimeRefusal on a tree that not every reader splits alike, or a result that does not read
 * back as the original with the links in.
 */
export function rewriteMessage(raw: Buffer, input: RewriteInput): Rewritten {
  const parts = splitParts(raw)
  const { listId: _listId, mailto: _mailto, ...links } = input
  const seen = { html: false, text: false }
  const untouched: ('html' | 'text')[] = []
  const rewritten = new Map<Part, { kind: 'html' | 'text'; body: NewBody }>()
  const edits: { range: [number, number]; bytes: Buffer }[] = []
  for (const part of parts) {
    const kind = partKind(part.node)
    if (!kind || seen[kind]) continue
    seen[kind] = true
    const body = rewriteBody(raw, part, kind, links)
    if (!body) {
      untouched.push(kind)
      continue
    }
    rewritten.set(part, { kind, body })
    // Labelled as written: UTF-8 once written anew, and the transfer encoding used.
    if (body.utf8) part.node.setCharset('utf-8')
    if (body.encoding) part.node.headers.update('Content-Transfer-Encoding', body.encoding)
    if (part !== parts[0] && (body.utf8 || body.encoding))
      edits.push({ range: part.head, bytes: part.node.getHeaders() })
    if (body.bytes) edits.push({ range: part.body, bytes: body.bytes })
  }
  const root = parts[0]!
  editRootHeaders(root.node.headers, input)
  edits.unshift({ range: root.head, bytes: root.node.getHeaders() })
  edits.sort((a, b) => a.range[0] - b.range[0])
  const out: Buffer[] = []
  let from = 0
  for (const { range, bytes } of edits) {
    out.push(raw.subarray(from, range[0]), bytes)
    from = range[1]
  }
  out.push(raw.subarray(from))
  const message = Buffer.concat(out)
  checkNothingLost(raw, parts, message, rewritten, links)
  return { message, injected: rewritten.size, untouched }
}

/**
 * Reads the result again: the same tree, every leaf not rewritten with byte for byte the same body,
 * and every rewritten one holding what was meant. A spliced body must be the original bytes with
 * one insertion (the splice proved, by decoding, that it reads as the footer). A body written anew
 * must decode to its original text with the template's placeholders filled and a footer put in one
 * place, nothing else.
 */
function checkNothingLost(
  raw: Buffer,
  before: Part[],
  message: Buffer,
  rewritten: Map<Part, { kind: 'html' | 'text'; body: NewBody }>,
  links: Omit<InjectInput, 'html' | 'text'>,
): void {
  const lost = () => new MimeRefusal('the links could not be added without changing other content')
  let after: Part[]
  try {
    after = splitParts(message)
  } catch {
    throw lost()
  }
  if (after.length !== before.length) throw lost()
  before.forEach((old, i) => {
    const now = after[i]!
    if (old.node.contentType !== now.node.contentType) throw lost()
    const [was, is] = [raw.subarray(...old.body), message.subarray(...now.body)]
    const meant = rewritten.get(old)
    if (!meant || meant.body.bytes === null) {
      // A container's body holds its children, checked one by one.
      if (!old.node.multipart && !was.equals(is)) throw lost()
      return
    }
    if (meant.body.spliced) {
      if (!oneInsertion(was, is)) throw lost()
      return
    }
    const decoded = decodeBody(message, now)
    if (decoded?.text !== meant.body.text) throw lost()
    const encode = meant.kind === 'html' ? escapeAttribute : String
    const filled = fillPlaceholders(meant.body.original, links, encode)
    if (!oneInsertion(Buffer.from(filled), Buffer.from(meant.body.text))) throw lost()
  })
}

/** Whether `after` is `before` with something put in at one place (compared a block at a time). */
function oneInsertion(before: Buffer, after: Buffer): boolean {
  if (after.length < before.length) return false
  let prefix = 0
  for (const step of [4096, 64, 1])
    while (
      prefix + step <= before.length &&
      before.subarray(prefix, prefix + step).equals(after.subarray(prefix, prefix + step))
    )
      prefix += step
  const rest = before.length - prefix
  return after.subarray(after.length - rest).equals(before.subarray(prefix))
}
