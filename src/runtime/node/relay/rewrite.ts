/**
 * @module Rewrites a relayed message without breaking its MIME: every part but the first text/html
 * and the first text/plain body comes out byte for byte as it went in (attachments, related images).
 * Well-formed mail is rewritten in place, in one synchronous pass (relay-mime.ts finds the parts,
 * relay-splice.ts puts the footer into the encoded bodies); the rest goes through mailsplit's stream
 * (Splitter → root headers → Rewriter → Joiner), one `setImmediate` per line, which decodes both
 * bodies and encodes them again: several times the CPU for a 50 KB newsletter.
 */
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Headers, Joiner, Rewriter, Splitter, type MimeNode } from 'mailsplit'
import { injectLinks, listIdFor, type InjectInput } from '../../../mail/inject.ts'
import { splitParts } from './mime.ts'
import { rewriteBody } from './splice.ts'

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

const supportsCharset = (label: string) => {
  try {
    return Boolean(new TextDecoder(label))
  } catch {
    return false
  }
}

/** The body a part is: 'html', 'text', or null for containers, attachments and unreadable charsets. */
function partKind(node: MimeNode): 'html' | 'text' | null {
  if (node.multipart || node.disposition === 'attachment') return null
  if (node.charset && !supportsCharset(node.charset)) return null
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
}

/**
 * The message with the links in its first HTML and first text body and the list headers on top.
 * A rewritten body is decoded from its charset and transfer encoding, and written back as UTF-8 in
 * the same encoding (quoted-printable when it was 7bit/8bit, so long lines stay legal); but when the
 * links only add a footer to a UTF-8 quoted-printable or 8bit body, the body keeps its bytes and
 * encoding, and the footer is spliced in. Both ways decode to the same text.
 * @throws on MIME the splitter cannot read.
 */
export async function rewriteMessage(raw: Buffer, input: RewriteInput): Promise<Rewritten> {
  return rewriteInPlace(raw, input) ?? rewriteByStream(raw, input)
}

/** The rewrite without a stream, or null when a part needs mailsplit's (see relay-splice.ts). */
export function rewriteInPlace(raw: Buffer, input: RewriteInput): Rewritten | null {
  const parts = splitParts(raw)
  if (!parts) return null
  const { listId: _listId, ...links } = input
  const seen = { html: false, text: false }
  const edits: { range: [number, number]; bytes: Buffer }[] = []
  for (const part of parts) {
    const kind = partKind(part.node)
    if (!kind || seen[kind]) continue
    seen[kind] = true
    const body = rewriteBody(raw, part, kind, links)
    if (!body) return null
    // Labelled as the streaming path labels what it wrote: UTF-8, and the encoding it used.
    part.node.setCharset('utf-8')
    if (body.encoding) part.node.headers.update('Content-Transfer-Encoding', body.encoding)
    if (part !== parts[0]) edits.push({ range: part.head, bytes: part.node.getHeaders() })
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
  return { message: Buffer.concat(out), injected: Number(seen.html) + Number(seen.text) }
}

/** mailsplit's stream: reads any MIME it can, decodes both bodies and encodes them again. */
export async function rewriteByStream(raw: Buffer, input: RewriteInput): Promise<Rewritten> {
  const { listId: _listId, ...inject } = input
  const seen = { html: false, text: false }
  let injected = 0
  const rewriter = new Rewriter((node) => {
    const kind = partKind(node)
    if (!kind || seen[kind]) return false
    return (seen[kind] = true)
  })
  rewriter.on('node', ({ node, decoder, encoder }) => {
    const chunks: Buffer[] = []
    decoder.on('data', (c: Buffer) => chunks.push(c))
    decoder.on('error', (err: Error) => rewriter.destroy(err))
    decoder.on('end', () => {
      try {
        const kind = partKind(node)!
        const body = new TextDecoder(node.charset || 'utf-8').decode(Buffer.concat(chunks))
        const out = injectLinks({ ...inject, [kind]: body })[kind] ?? body
        node.setCharset('utf-8')
        injected++
        encoder.end(Buffer.from(out, 'utf8'))
      } catch (err) {
        rewriter.destroy(err as Error)
      }
    })
  })
  let root = true
  const headerEditor = new Transform({
    objectMode: true,
    transform(data: { type: string; root?: boolean; headers?: Headers }, _enc, done) {
      if (root && data.type === 'node') {
        root = false
        editRootHeaders(data.headers!, input)
      }
      done(null, data)
    },
  })
  const out: Buffer[] = []
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk)
      done()
    },
  })
  await pipeline(
    Readable.from([raw], { objectMode: false }),
    new Splitter({ ignoreEmbedded: true }),
    headerEditor,
    rewriter,
    new Joiner(),
    sink,
  )
  return { message: Buffer.concat(out), injected }
}
