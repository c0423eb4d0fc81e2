// The footer templates are precompiled: link injection renders them inside workerd too (no eval there).
import { describe, expect, it } from 'vitest'
import { injectLinks, listHeadersFor } from '../../src/mail/inject.ts'

const unsubscribeUrl = 'https://gateway.test/u/eyJh.eyJz.c2ln?a=1&b=2'
const preferencesUrl = 'https://gateway.test/p/eyJh.eyJw.c2ln'

describe('link injection in workerd', () => {
  it('really runs in workerd', () => {
    expect(navigator.userAgent).toBe('Cloudflare-Workers')
  })

  it('renders the French footer into both parts, URLs intact in text and escaped in HTML', () => {
    const out = injectLinks({
      html: '<html><body><p>Nos offres</p></body></html>',
      text: 'Nos offres',
      locale: 'fr',
      org: 'ACME & Co',
      unsubscribeUrl,
      preferencesUrl,
    })
    expect(out.html).toContain('<!-- consent-gateway:footer -->')
    expect(out.html).toContain('ACME &amp; Co vous envoie ce message')
    expect(out.html).toContain('href="https://gateway.test/u/eyJh.eyJz.c2ln?a&#x3D;1&amp;b&#x3D;2"')
    expect(out.html).toContain(`href="${preferencesUrl}"`)
    expect(out.html!.endsWith('<!-- /consent-gateway:footer -->\n</body></html>')).toBe(true)
    expect(out.text).toContain(`\n-- \nACME & Co vous envoie ce message`)
    expect(out.text).toContain(`Se désinscrire\u00a0: ${unsubscribeUrl}\n`)
    expect(out.text).toContain(`Gérer mes préférences\u00a0: ${preferencesUrl}\n`)
  })

  it('fills placeholders, and builds the list headers', () => {
    const out = injectLinks({
      text: 'Stop: {{ unsubscribe_url }}\nPrefs: {{preferences_url}}',
      locale: 'en',
      org: 'ACME',
      unsubscribeUrl,
      preferencesUrl,
    })
    expect(out).toEqual({ text: `Stop: ${unsubscribeUrl}\nPrefs: ${preferencesUrl}` })
    expect(listHeadersFor({ unsubscribeUrl, listId: 'newsletter.gateway.test' })).toEqual({
      listUnsubscribe: { url: unsubscribeUrl, oneClick: true },
      headers: { 'List-Id': '<newsletter.gateway.test>' },
    })
  })
})
