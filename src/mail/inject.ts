/**
 * @module Puts the unsubscribe and preference-center links into every marketing e-mail (README
 * "E-mails sent or relayed"): the template's `{{unsubscribe_url}}` / `{{preferences_url}}` filled, a
 * footer in the contact's language for any link still missing, and nothing added twice. Pure, with
 * Web-standard APIs only (Node and Workers). Also the list headers (RFC 2369, 2919, 8058).
 */
import { cachedIn } from '../lib/cached-in.ts'
import { t, type Locale } from '../lib/i18n.ts'
import { escapeExpression, renderView } from '../lib/views.ts'
import {
  escapeAttribute,
  footerIndex,
  HTML_FOOTER_END,
  HTML_FOOTER_START,
  withoutComments,
} from './inject-html.ts'
import {
  assertLinkUrl,
  containsUrl,
  fillPlaceholders,
  missingLinks,
  type Missing,
} from './inject-links.ts'
import { htmlPart, textPart } from './inject-parts.ts'
import type { MailMessage } from './message.ts'
import { unescapeText } from './render.ts'

export interface InjectInput {
  html?: string
  text?: string
  locale: Locale
  /** Who sends the mail: named in the footer's "why you get this" line. */
  org: string
  unsubscribeUrl: string
  preferencesUrl: string
}

export interface InjectedParts {
  html?: string
  text?: string
}

export { HTML_FOOTER_END, HTML_FOOTER_START } from './inject-html.ts'

/**
 * Adds both links to each part given (a part left out stays out). Per part: a part that already holds
 * our footer is returned unchanged; otherwise placeholders are filled (attribute-escaped in HTML), and
 * a footer holding the "why you get this" line and only the links still absent is added (HTML: before
 * the last `</body>` outside comments, or at the end; text: after the signature separator `-- `).
 * A link counts as absent when its URL is nowhere outside an HTML comment, so a mail filled from its
 * placeholders, or injected before, comes back unchanged. Original content is never removed or moved:
 * the output is prefix + footer + suffix, with placeholders replaced by their URL.
 * @throws TypeError when a URL is not an absolute http(s) URI (a caller bug; the URL is not quoted
 * in the message: it carries a token).
 */
export function injectLinks(input: InjectInput): InjectedParts {
  assertLinkUrl(input.unsubscribeUrl, 'unsubscribeUrl')
  assertLinkUrl(input.preferencesUrl, 'preferencesUrl')
  // The footer line is one line: it also marks an injected text part.
  const normalized = { ...input, org: input.org.replace(/\s+/g, ' ').trim() }
  const out: InjectedParts = {}
  if (input.html !== undefined) out.html = injectHtml(input.html, normalized)
  if (input.text !== undefined) out.text = injectText(input.text, normalized)
  return out
}

function injectHtml(html: string, input: InjectInput): string {
  if (html.includes(HTML_FOOTER_START)) return html
  const part = htmlPart(html)
  const filled = part.placeholders ? fillPlaceholders(html, input, escapeAttribute) : html
  const visible = part.placeholders ? withoutComments(filled) : part.visible
  const missing = missingLinks(
    input,
    (url) => containsUrl(visible, escapeAttribute(url)) || containsUrl(visible, url),
  )
  if (!missing) return filled
  // The opening comment also closes a comment the original left open, so the footer stays visible.
  const footer = `${HTML_FOOTER_START}\n${footerFor('html', input, missing)}${HTML_FOOTER_END}\n`
  const at = part.placeholders ? footerIndex(filled) : part.at
  return filled.slice(0, at) + footer + filled.slice(at)
}

function injectText(text: string, input: InjectInput): string {
  const part = textPart(text)
  // The footer's first line ("ACME sends you this e-mail because …") is the text part's marker.
  if (part.lines.has(whyLine(input))) return text
  const filled = part.placeholders ? fillPlaceholders(text, input, (url) => url) : text
  const missing = missingLinks(input, (url) => containsUrl(filled, url))
  if (!missing) return filled
  const footer = footerFor('text', input, missing)
  const eol = part.eol
  const gap = filled === '' ? '' : filled.endsWith('\n') ? eol : eol + eol
  // RFC 3676 §4.3 sig separator, unless the mail already has a signature (then the footer joins it).
  const separator = part.signed ? '' : `-- ${eol}`
  const body = footer.trimEnd().split('\n').join(eol) + eol
  return filled + gap + separator + body
}

/** Stand-ins for the two URLs while a footer is rendered once per language, sender and link set. */
const SLOT = {
  unsubscribeUrl: 'https://consent-gateway.invalid/unsubscribe-url',
  preferencesUrl: 'https://consent-gateway.invalid/preferences-url',
}
/** Splits a footer at either stand-in above, keeping the stand-ins (a capturing group). */
const SLOTS = /(https:\/\/consent-gateway\.invalid\/(?:unsubscribe|preferences)-url)/
const FOOTERS_MAX = 256
/** A rendered footer split at its stand-ins: text, stand-in, text, …, text. */
const footers = new Map<string, string[]>()
const whyLines = new Map<string, string>()

/**
 * The footer with the links still missing. Rendering it costs more than the rest of an injection,
 * and only its URLs change from one contact to the next, so it is rendered with stand-ins, kept, and
 * the URLs put in their place (HTML-escaped in HTML, exactly as the template escapes them).
 */
function footerFor(kind: 'html' | 'text', input: InjectInput, links: Missing): string {
  const key = `${kind}|${input.locale}|${links.unsubscribeUrl ? 1 : 0}${links.preferencesUrl ? 1 : 0}|${input.org}`
  const pieces = cachedIn(footers, FOOTERS_MAX, key, () => {
    // Strict templates need every key present, even when a link is left out.
    const context = {
      locale: input.locale,
      data: {
        org: input.org,
        unsubscribeUrl: links.unsubscribeUrl && SLOT.unsubscribeUrl,
        preferencesUrl: links.preferencesUrl && SLOT.preferencesUrl,
      },
    }
    const footer =
      kind === 'html'
        ? renderView('email/footer.html', context)
        : unescapeText(renderView('email/footer.text', context))
    return footer.split(SLOTS)
  })
  const encode = kind === 'html' ? escapeExpression : (url: string) => url
  let out = pieces[0]!
  for (let i = 1; i < pieces.length; i += 2) {
    const url = pieces[i] === SLOT.unsubscribeUrl ? links.unsubscribeUrl : links.preferencesUrl
    out += encode(url ?? '') + pieces[i + 1]!
  }
  return out
}

/** The footer's first line, which also marks a text part as injected. */
const whyLine = (input: InjectInput) =>
  cachedIn(whyLines, FOOTERS_MAX, `${input.locale}|${input.org}`, () =>
    t(input.locale, 'mail.footer.why', { org: input.org }),
  )

/**
 * What the message needs for its list headers: `listUnsubscribe` (the transports write RFC 8058's
 * `List-Unsubscribe: <url>, <mailto>` and `List-Unsubscribe-Post: List-Unsubscribe=One-Click` from it)
 * and `List-Id: <id>` (RFC 2919), which Gmail and others use to group and filter a list's mail.
 * @param input.listId sanitised by {@link listIdFor}.
 */
export function listHeadersFor(input: {
  unsubscribeUrl: string
  mailto?: string
  listId: string
}): {
  listUnsubscribe: MailMessage['listUnsubscribe']
  headers: Record<string, string>
} {
  assertLinkUrl(input.unsubscribeUrl, 'unsubscribeUrl')
  const mailto = input.mailto?.trim()
  return {
    listUnsubscribe: { url: input.unsubscribeUrl, ...(mailto ? { mailto } : {}), oneClick: true },
    headers: { 'List-Id': `<${listIdFor(input.listId)}>` },
  }
}

/**
 * An RFC 2919 list-id (`label.namespace`): lower-cased, any run of characters other than letters,
 * digits, '-' and '.' made one '-', no empty label; an id without a dot gets the unmanaged namespace
 * `.localhost` (RFC 2919 §2).
 * @throws TypeError when nothing usable is left, or it is longer than 255 characters (RFC 2919 §2).
 */
export function listIdFor(raw: string): string {
  const id = raw
    .trim()
    .replace(/^<|>$/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.-]+$/g, '')
  if (!id) throw new TypeError('listHeadersFor: listId has no letter or digit')
  const full = id.includes('.') ? id : `${id}.localhost`
  if (full.length > 255) throw new TypeError('listHeadersFor: listId is longer than 255 characters')
  return full
}

/**
 * The `mailto:` of List-Unsubscribe for a configured address, by sub-addressing (RFC 5233):
 * `unsubscribe@example.com` and `TOKEN` give `mailto:unsubscribe+TOKEN@example.com?subject=unsubscribe`.
 * The mailbox must deliver `local+anything@domain` to `local@domain` (most do).
 * @throws TypeError when the address is not a plain `local@domain`, or the token is not made of
 * letters, digits, '-', '_' and single dots (a JWT is).
 */
export function mailtoFor(address: string, token: string): string {
  const match = /^(?:mailto:)?([A-Za-z0-9._+-]+)@([A-Za-z0-9.-]+)$/i.exec(address.trim())
  if (!match) throw new TypeError('mailtoFor: the unsubscribe address must be a plain local@domain')
  if (!/^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(token))
    throw new TypeError('mailtoFor: the token must be letters, digits, "-", "_" and single dots')
  return `mailto:${match[1]}+${token}@${match[2]}?subject=unsubscribe`
}
