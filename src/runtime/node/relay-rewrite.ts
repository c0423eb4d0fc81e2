/**
 * @module Rewrites a relayed message without breaking its MIME: the stream goes through mailsplit
 * (Splitter → root headers → Rewriter → Joiner), so every part but the first text/html and the
 * first text/plain body comes out byte for byte as it went in (attachments, related images).
 */
import { Readable, Transform, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Headers, Joiner, Rewriter, Splitter, type MimeNode } from 'mailsplit'
import { injectLinks, listIdFor, type InjectInput } from '../../mail/inject.ts'

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

/**
 * The message with the links in its first HTML and first text body and the list headers on top.
 * A rewritten body is decoded from its charset and transfer encoding, and written back as UTF-8 in
 * the same encoding (quoted-printable when it was 7bit/8bit, so long lines stay legal).
 * @returns `injected`: how many bodies got the links (0: the message had no body to put them in).
 * @throws on MIME the splitter cannot read.
 */
export async function rewriteMessage(
  raw: Buffer,
  input: RewriteInput,
): Promise<{ message: Buffer; injected: number }> {
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
