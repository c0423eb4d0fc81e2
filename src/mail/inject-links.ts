/**
 * @module Part-independent pieces of link injection: placeholders, which links a part still lacks,
 * and the URL check.
 */

export interface LinkUrls {
  unsubscribeUrl: string
  preferencesUrl: string
}

/** The links a part still lacks; `undefined` for one already placed. */
export interface Missing {
  unsubscribeUrl: string | undefined
  preferencesUrl: string | undefined
}

const PLACEHOLDER = /\{\{\s*(unsubscribe|preferences)_url\s*\}\}/g
const ANY_PLACEHOLDER = /\{\{\s*(?:unsubscribe|preferences)_url\s*\}\}/

/** Whether the part holds a placeholder (the `{{` test spares the expression most parts). */
export const hasPlaceholder = (part: string) => part.includes('{{') && ANY_PLACEHOLDER.test(part)

/** Fills every placeholder; a function replacement, because `$` is legal in a URL. */
export const fillPlaceholders = (part: string, input: LinkUrls, encode: (url: string) => string) =>
  part.replace(PLACEHOLDER, (_m, which: string) =>
    encode(which === 'unsubscribe' ? input.unsubscribeUrl : input.preferencesUrl),
  )

export function missingLinks(
  input: LinkUrls,
  present: (url: string) => boolean,
): Missing | undefined {
  const missing: Missing = {
    unsubscribeUrl: present(input.unsubscribeUrl) ? undefined : input.unsubscribeUrl,
    preferencesUrl: present(input.preferencesUrl) ? undefined : input.preferencesUrl,
  }
  return missing.unsubscribeUrl || missing.preferencesUrl ? missing : undefined
}

/** The URL as a whole (not the start of a longer URL): followed by the end, a space, a quote or `<>`. */
export function containsUrl(part: string, url: string): boolean {
  for (let i = part.indexOf(url); i >= 0; i = part.indexOf(url, i + 1)) {
    const next = part[i + url.length]
    if (next === undefined || /[\s"'<>]/.test(next)) return true
  }
  return false
}

/** RFC 3986 characters only: no space, quote, brace or `<>` that could break a part or a placeholder. */
const LINK_URL = /^https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/

/**
 * `scheme://authority/` of the last URL the URL parser accepted. Every link of a gateway starts with
 * the same one, and a URL of the characters above that starts with an accepted authority followed by
 * `/` parses too: past the authority, path, query and fragment never fail to parse.
 */
let acceptedOrigin = ''

export function assertLinkUrl(url: string, name: string): void {
  if (!LINK_URL.test(url)) throw notAUrl(name)
  if (acceptedOrigin && url.startsWith(acceptedOrigin)) return
  let host = ''
  try {
    host = new URL(url).host
  } catch {
    throw notAUrl(name)
  }
  if (host === '') throw notAUrl(name)
  const slash = url.indexOf('/', url.indexOf('//') + 2)
  if (slash > 0) acceptedOrigin = url.slice(0, slash + 1)
}

const notAUrl = (name: string) =>
  new TypeError(`injectLinks: ${name} is not an absolute http(s) URL`)
