/** @module French and English strings (flat keys, listmonk style), locale choice and `t`. */
import en from '../locales/en.json' with { type: 'json' }
import fr from '../locales/fr.json' with { type: 'json' }
import mailEn from '../locales/mail.en.json' with { type: 'json' }
import mailFr from '../locales/mail.fr.json' with { type: 'json' }
import complianceEn from '../locales/compliance.en.json' with { type: 'json' }
import complianceFr from '../locales/compliance.fr.json' with { type: 'json' }
import consoleEn from '../locales/console.en.json' with { type: 'json' }
import consoleFr from '../locales/console.fr.json' with { type: 'json' }
import adminComplianceEn from '../locales/admin-compliance.en.json' with { type: 'json' }
import adminComplianceFr from '../locales/admin-compliance.fr.json' with { type: 'json' }
import operationsEn from '../locales/operations.en.json' with { type: 'json' }
import operationsFr from '../locales/operations.fr.json' with { type: 'json' }

export type Locale = 'fr' | 'en'
export const LOCALES: readonly Locale[] = ['fr', 'en']
/** Our users are mostly in France: French unless the contact or the browser says otherwise. */
export const DEFAULT_LOCALE: Locale = 'fr'

// One file per area (pages, e-mails, compliance records, the console's compliance screens) so that each stays readable; keys are flat and unique across files.
const dictionaries: Record<Locale, Record<string, string>> = {
  fr: { ...fr, ...mailFr, ...complianceFr, ...adminComplianceFr, ...operationsFr, ...consoleFr },
  en: { ...en, ...mailEn, ...complianceEn, ...adminComplianceEn, ...operationsEn, ...consoleEn },
}

export const isLocale = (v: unknown): v is Locale => v === 'fr' || v === 'en'

/** Translates `key`, filling `{name}` placeholders; an unknown key shows as itself (visible in tests). */
export function t(locale: Locale, key: string, params: Record<string, unknown> = {}): string {
  const template = dictionaries[locale][key] ?? dictionaries[DEFAULT_LOCALE][key] ?? key
  // Most strings have no placeholder: pages call this a few dozen times each.
  if (!template.includes('{')) return template
  return template.replace(/\{(\w+)\}/g, (m, name: string) =>
    name in params ? String(params[name]) : m,
  )
}

/**
 * Picks the page locale: an explicit choice (the page's language switch) first, then the contact's
 * stored locale, then the best match in Accept-Language (RFC 9110 §12.5.4, q-values honoured).
 */
export function pickLocale(opts: {
  explicit?: string | null
  contact?: string | null
  acceptLanguage?: string | null
}): Locale {
  if (isLocale(opts.explicit)) return opts.explicit
  if (isLocale(opts.contact)) return opts.contact
  return fromAcceptLanguage(opts.acceptLanguage ?? '') ?? DEFAULT_LOCALE
}

function fromAcceptLanguage(header: string): Locale | undefined {
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='))
      return { lang: tag.trim().toLowerCase().split('-')[0], q: q ? Number(q.slice(2)) : 1, index }
    })
    .filter((r) => r.q > 0 && !Number.isNaN(r.q))
    .sort((a, b) => b.q - a.q || a.index - b.index)
  return ranked.map((r) => r.lang).find(isLocale)
}
