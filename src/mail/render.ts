/**
 * @module Renders an e-mail (subject, HTML and text parts) from views/email/<name>.{html,text}.hbs in
 * the contact's language. Subjects come from the locale key `mail.<name>.subject`.
 */
import { t, type Locale } from '../lib/i18n.ts'
import { renderView } from '../lib/views.ts'

/** Every e-mail and the data its templates need. */
export interface EmailViews {
  /** Double opt-in (GDPR Art. 7(1)): one link confirms every purpose listed. */
  confirm: {
    org: string
    confirmUrl: string
    purposes: { title: string }[]
    expiresDays: number
  }
}

export type EmailName = keyof EmailViews

export interface RenderedEmail {
  subject: string
  html: string
  text: string
}

export function renderEmail<N extends EmailName>(
  name: N,
  locale: Locale,
  data: EmailViews[N],
): RenderedEmail {
  // A header value: one line, whatever a placeholder held.
  const subject = t(locale, `mail.${name}.subject`, data).replace(/\s+/g, ' ').trim()
  const context = { locale, subject, data }
  return {
    subject,
    html: renderView(`email/${name}.html`, context),
    text: unescapeText(renderView(`email/${name}.text`, context)),
  }
}

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#x27;': "'",
  '&#x60;': '`',
  '&#x3D;': '=',
}

/**
 * Undoes Handlebars' HTML escaping in a text/plain part, where it has no purpose and would break URLs
 * (`?a=1&b=2`). One pass over exactly the entities Handlebars writes, so `&amp;lt;` becomes `&lt;`.
 */
export const unescapeText = (text: string): string =>
  text.replace(/&(?:amp|lt|gt|quot|#x27|#x60|#x3D);/g, (e) => ENTITIES[e] ?? e)
