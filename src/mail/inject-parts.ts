/**
 * @module What link injection reads from a part before it adds anything (src/mail/inject.ts), kept
 * for the next mail with the same part. A campaign sends one body to many contacts and only the links
 * differ between them (POST /api/v1/send: one call per recipient), so whether a part holds a
 * placeholder, its lines, and for an HTML part without placeholders its comments and its `</body>`
 * are found once, not once per recipient. What depends on the recipient is still done per mail: the
 * URLs, whether they are already there, and an HTML part's comments and `</body>` once its
 * placeholders are filled (a URL could end a comment the template left open).
 */
import { footerIndex, withoutComments } from './inject-html.ts'
import { hasPlaceholder } from './inject-links.ts'

export interface HtmlPart {
  /** Holds `{{unsubscribe_url}}` or `{{preferences_url}}`: what follows depends on the URLs. */
  placeholders: boolean
  /** Without placeholders only: the part without its comments, and where the footer goes. */
  visible: string
  at: number
}

export interface TextPart {
  lines: Set<string>
  /** Has a signature separator line (`-- `, RFC 3676 §4.3). */
  signed: boolean
  /** The part's own line end: CRLF when it has one, else LF. */
  eol: '\r\n' | '\n'
  placeholders: boolean
}

export const htmlPart = (html: string): HtmlPart =>
  recent(htmlParts, html, () => {
    const placeholders = hasPlaceholder(html)
    return {
      placeholders,
      visible: placeholders ? '' : withoutComments(html),
      at: placeholders ? -1 : footerIndex(html),
    }
  })

export const textPart = (text: string): TextPart =>
  recent(textParts, text, () => {
    const lines = new Set(text.split(/\r?\n/))
    return {
      lines,
      signed: lines.has('-- '),
      eol: text.includes('\r\n') ? '\r\n' : '\n',
      placeholders: hasPlaceholder(text),
    }
  })

/** Parts kept, per kind: a few campaigns under way at once. */
export const RECENT_MAX = 8
/** A larger part is read anew each time (kept, it and its copy without comments would hold memory). */
const RECENT_MAX_LENGTH = 256 * 1024

const htmlParts: { part: string; value: HtmlPart }[] = []
const textParts: { part: string; value: TextPart }[] = []

/**
 * The value kept for `part`, or `make`'s, kept. Parts are compared by length, then content, newest
 * first: a Map would hash each new body in full to find it, a comparison stops at the first
 * difference.
 */
function recent<T>(kept: { part: string; value: T }[], part: string, make: () => T): T {
  for (const entry of kept)
    if (entry.part.length === part.length && entry.part === part) return entry.value
  const value = make()
  if (part.length <= RECENT_MAX_LENGTH) {
    if (kept.length >= RECENT_MAX) kept.pop()
    kept.unshift({ part, value })
  }
  return value
}
