/**
 * @module Pages answered as UTF-8 bytes joined from parts encoded once. A page many requests share
 * but for a few strings (the preference center, the dashboard's content) is kept as bytes, not as
 * text: French text brings characters past Latin-1 (’, the narrow no-break space of numbers, —), and
 * a JavaScript string holding one of them is stored two bytes a character, so that answering it as
 * text meant measuring its UTF-8 length, then transcoding it, on every request. Bytes are only copied
 * (as measured: bench/results.md, "Measurements behind design choices").
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { utf8 } from './encoding.ts'

export type HtmlPart = string | Uint8Array

/** The parts as one byte array; strings are encoded as UTF-8. */
export function joinHtml(parts: readonly HtmlPart[]): Uint8Array {
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8(p) : p))
  let length = 0
  for (const b of bytes) length += b.byteLength
  const out = new Uint8Array(length)
  let at = 0
  for (const b of bytes) {
    out.set(b, at)
    at += b.byteLength
  }
  return out
}

/** `c.html()` for parts: the same Content-Type, the body as bytes. */
export const htmlBytes = (
  c: Context,
  parts: readonly HtmlPart[],
  status: ContentfulStatusCode = 200,
): Response =>
  c.body(joinHtml(parts) as Uint8Array<ArrayBuffer>, status, {
    'Content-Type': 'text/html; charset=UTF-8',
  })
