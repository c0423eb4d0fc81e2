/**
 * @module HTML-part helpers of link injection: where the footer goes (before the last `</body>` that is
 * not inside a comment), what a reader can see (comments left out), attribute escaping.
 */

/** Opens the footer in an HTML part; its presence means the part was already injected. */
export const HTML_FOOTER_START = '<!-- consent-gateway:footer -->'
export const HTML_FOOTER_END = '<!-- /consent-gateway:footer -->'

/** Index to insert the footer at: the last `</body>` outside comments (any case, `</BODY >`), else the end. */
export function footerIndex(html: string): number {
  const comments = commentRanges(html)
  let index = html.length
  for (const m of html.matchAll(/<\/body\s*>/gi))
    if (!comments.some(([start, end]) => m.index >= start && m.index < end)) index = m.index
  return index
}

/**
 * The HTML without its comments: a link in `<!-- … -->` (or in an Outlook conditional comment that
 * other clients skip) is not one the contact can follow, so it does not count as placed.
 */
export function withoutComments(html: string): string {
  let out = ''
  let from = 0
  for (const [start, end] of commentRanges(html)) {
    out += html.slice(from, start) + ' '
    from = end
  }
  return out + html.slice(from)
}

/**
 * The [start, end) ranges of HTML comments, as a browser parses them: `<!-->` and `<!--->` are empty
 * comments, `-->` or `--!>` close one, and one left open runs to the end of the document.
 */
function commentRanges(html: string): [number, number][] {
  const ranges: [number, number][] = []
  for (let start = html.indexOf('<!--'); start >= 0;) {
    const end = commentEnd(html, start + 4)
    ranges.push([start, end])
    start = html.indexOf('<!--', end)
  }
  return ranges
}

function commentEnd(html: string, after: number): number {
  if (html.startsWith('>', after)) return after + 1
  if (html.startsWith('->', after)) return after + 2
  const ends = [html.indexOf('-->', after), html.indexOf('--!>', after)].filter((i) => i >= 0)
  if (ends.length === 0) return html.length
  const end = Math.min(...ends)
  return end + (html.startsWith('-->', end) ? 3 : 4)
}

const ATTRIBUTE_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
  '`': '&#x60;',
  '=': '&#x3D;',
}

/** Escapes exactly as Handlebars does, so a filled placeholder matches a footer `href` byte for byte. */
export const escapeAttribute = (value: string): string =>
  value.replace(/[&<>"'`=]/g, (c) => ATTRIBUTE_ENTITIES[c] ?? c)
