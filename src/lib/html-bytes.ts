/**
 * @module Pages answered as UTF-8 bytes from parts encoded once. A page many requests share but for a
 * few strings (the preference center, the dashboard's content) is kept as bytes, not text: answering
 * text means measuring its UTF-8 length, then transcoding it, on every request, and French text makes
 * that dearer still (é, and past Latin-1 the ’ and the narrow no-break space of numbers, which store
 * a whole JavaScript string two bytes a character). Behind the Node edge the parts are not even joined:
 * the edge writes them to the socket one after another (src/runtime/node/edge.ts), so a request
 * copies nothing of the shared part and allocates no array for it outside the JavaScript heap, where
 * such arrays outlive their request until the next collection and raised the server's peak RSS. As
 * measured: bench/results.md, "Measurements behind design choices".
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { utf8 } from './encoding.ts'

export type HtmlPart = string | Uint8Array

declare module 'hono' {
  interface ContextVariableMap {
    /**
     * Set where the listener writes HtmlParts part by part (the Node edge): how it measures a text
     * part's UTF-8 length.
     */
    edgeTextBytes?: (text: string) => number
  }
}

/**
 * Stands for the parts' bytes without holding them: a view as long as they are together, over one
 * span of address space never written (its pages are never touched, so they take no memory). Only a
 * listener that knows it (the Node edge's `end`) may be given one; it writes `parts` instead, text
 * parts encoded by Node into a buffer it frees as soon as the socket has them.
 */
let span: ArrayBuffer | undefined
const SPAN_BYTES = 16 * 1024 * 1024

export class HtmlParts extends Uint8Array {
  // Derived arrays (subarray, map…) are plain ones, never views claiming parts they do not have.
  static get [Symbol.species]() {
    return Uint8Array
  }

  constructor(
    readonly parts: readonly HtmlPart[],
    length: number,
  ) {
    super((span ??= new ArrayBuffer(SPAN_BYTES)), 0, length)
  }
}

/** The parts as one byte array; strings are encoded as UTF-8. */
export function joinHtml(parts: readonly HtmlPart[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8(p) : p))
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.byteLength, 0))
  let at = 0
  for (const b of bytes) {
    out.set(b, at)
    at += b.byteLength
  }
  return out
}

/** `c.html()` for parts: the same Content-Type, the body as bytes (written part by part on Node). */
export function htmlBytes(
  c: Context,
  parts: readonly HtmlPart[],
  status: ContentfulStatusCode = 200,
): Response {
  const headers = { 'Content-Type': 'text/html; charset=UTF-8' }
  const textBytes = c.get('edgeTextBytes')
  let body: Uint8Array | undefined
  if (textBytes) {
    let length = 0
    for (const p of parts) length += typeof p === 'string' ? textBytes(p) : p.byteLength
    if (length <= SPAN_BYTES) body = new HtmlParts(parts, length)
  }
  return c.body((body ?? joinHtml(parts)) as Uint8Array<ArrayBuffer>, status, headers)
}
