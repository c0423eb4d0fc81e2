import { describe, expect, it } from 'vitest'
import { pickLocale, t } from '../../../src/lib/i18n.ts'
import { renderPage, renderView } from '../../../src/lib/views.ts'
import en from '../../../src/locales/en.json' with { type: 'json' }
import fr from '../../../src/locales/fr.json' with { type: 'json' }
import mailEn from '../../../src/locales/mail.en.json' with { type: 'json' }
import mailFr from '../../../src/locales/mail.fr.json' with { type: 'json' }
import complianceEn from '../../../src/locales/compliance.en.json' with { type: 'json' }
import complianceFr from '../../../src/locales/compliance.fr.json' with { type: 'json' }
import operationsEn from '../../../src/locales/operations.en.json' with { type: 'json' }
import operationsFr from '../../../src/locales/operations.fr.json' with { type: 'json' }

const page = (locale: 'fr' | 'en', body: string) =>
  renderPage('message', {
    locale,
    title: 'Titre <b>',
    site: { name: 'ACME & Cie' },
    switchLocale: locale === 'fr' ? 'en' : 'fr',
    switchUrl: '/x?lang=en',
    data: { body, reference: undefined },
  })

describe('views', () => {
  it('renders the message page in the base layout, escaping everything', () => {
    const html = page('fr', '<script>alert(1)</script>')
    expect(html).toContain('<html lang="fr">')
    expect(html).toContain('<title>Titre &lt;b&gt; · ACME &amp; Cie</title>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).not.toContain('<script>')
    expect(html).toContain('Aller au contenu')
    expect(page('en', 'x')).toContain('Skip to content')
  })

  it('refuses to render an unknown view', () => {
    expect(() => renderView('nope', {})).toThrow(/unknown view/)
  })

  it('has the same keys in French and English', () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort())
    expect(Object.keys(mailFr).sort()).toEqual(Object.keys(mailEn).sort())
    expect(Object.keys(complianceFr).sort()).toEqual(Object.keys(complianceEn).sort())
    expect(Object.keys(operationsFr).sort()).toEqual(Object.keys(operationsEn).sort())
  })

  it('fills placeholders in strings', () => {
    expect(t('en', 'error.reference', { id: 'r-1' })).toBe('Reference: r-1')
    expect(t('fr', 'error.reference', { id: 'r-1' })).toBe('Référence\u00a0: r-1') // French typography: a no-break space before ':'
  })
})

describe('pickLocale', () => {
  it.each([
    [{}, 'fr'],
    [{ acceptLanguage: 'en-US,en;q=0.9' }, 'en'],
    [{ acceptLanguage: 'de-DE,de;q=0.9,en;q=0.8,fr;q=0.7' }, 'en'],
    [{ acceptLanguage: 'en;q=0.2, fr;q=0.8' }, 'fr'],
    [{ acceptLanguage: 'en;q=0' }, 'fr'],
    [{ acceptLanguage: 'en', contact: 'fr' }, 'fr'],
    [{ acceptLanguage: 'fr', contact: 'fr', explicit: 'en' }, 'en'],
    [{ explicit: 'de', acceptLanguage: 'en' }, 'en'],
  ] as const)('%o -> %s', (input, expected) => expect(pickLocale(input)).toBe(expected))
})
