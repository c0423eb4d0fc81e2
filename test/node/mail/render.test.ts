// E-mail rendering: the double opt-in confirmation in both languages, escaped HTML, intact URLs.
import { describe, expect, it } from 'vitest'
import { renderEmail, unescapeText, type EmailViews } from '../../../src/mail/render.ts'

const URL_WITH_QUERY = 'https://gateway.test/c/eyJhbGciOi.x-y_z?lang=fr&src=mail'

const confirm = (over: Partial<EmailViews['confirm']> = {}): EmailViews['confirm'] => ({
  org: 'ACME',
  confirmUrl: URL_WITH_QUERY,
  purposes: [{ title: 'Lettre d’information' }, { title: 'Offres partenaires' }],
  expiresDays: 7,
  ...over,
})

/** The href values of an HTML part, with the entities Handlebars writes decoded. */
const hrefs = (html: string) =>
  [...html.matchAll(/href="([^"]*)"/g)].map((m) => unescapeText(m[1]!))

describe('confirm e-mail', () => {
  it('renders in French: sender, purposes, one link, expiry, what to do if not asked', () => {
    const mail = renderEmail('confirm', 'fr', confirm())
    expect(mail.subject).toBe('Confirmez votre inscription – ACME')
    expect(mail.html).toContain('<html lang="fr">')
    expect(mail.html).toContain(`<title>Confirmez votre inscription – ACME</title>`)
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain(
        'ACME a reçu une demande d’inscription pour cette adresse e-mail, afin de recevoir\u00a0:',
      )
      expect(part).toContain('Lettre d’information')
      expect(part).toContain('Offres partenaires')
      expect(part).toContain('Ce lien expire dans 7 jours.')
      expect(part).toContain('ignorez simplement ce message')
      expect(part).toContain('rien d’autre ne vous sera envoyé')
      expect(part).toContain('Message envoyé par ACME')
    }
    expect(mail.html).toContain('Je confirme mon inscription')
    expect(mail.text).toContain('- Lettre d’information\n- Offres partenaires\n')
  })

  it('renders in English', () => {
    const mail = renderEmail('confirm', 'en', confirm({ org: 'ACME Ltd', expiresDays: 1 }))
    expect(mail.subject).toBe('Confirm your subscription – ACME Ltd')
    expect(mail.html).toContain('<html lang="en">')
    for (const part of [mail.html, mail.text]) {
      expect(part).toContain(
        'ACME Ltd received a request to send the following to this e-mail address:',
      )
      expect(part).toContain('This link expires in 1 day.')
      expect(part).toContain('just ignore this e-mail')
    }
    expect(mail.html).toContain('Confirm my subscription')
  })

  it('keeps the confirmation URL intact in both parts', () => {
    const mail = renderEmail('confirm', 'fr', confirm())
    expect(mail.text).toContain(`\n${URL_WITH_QUERY}\n`)
    expect(mail.text).not.toContain('&amp;')
    expect(hrefs(mail.html)).toEqual([URL_WITH_QUERY, URL_WITH_QUERY])
    expect(mail.html).toContain('&amp;src') // & is escaped in HTML, as it must be
  })

  it('escapes HTML in the organisation name and purpose titles (text part stays plain)', () => {
    const org = 'ACME <script>alert(1)</script> & "Cie"'
    const mail = renderEmail(
      'confirm',
      'en',
      confirm({ org, purposes: [{ title: '<b>News</b>' }] }),
    )
    expect(mail.html).not.toContain('<script>')
    expect(mail.html).not.toContain('<b>News</b>')
    expect(mail.html).toContain('ACME &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Cie&quot;')
    expect(mail.html).toContain('&lt;b&gt;News&lt;/b&gt;')
    expect(mail.text).toContain(`${org} received a request`)
    expect(mail.text).toContain('- <b>News</b>')
    expect(mail.subject).toBe(`Confirm your subscription – ${org}`)
  })

  it('has no images, tracking pixels or external resources', () => {
    const { html } = renderEmail('confirm', 'fr', confirm())
    expect(html).not.toMatch(/<img|<link|<script|url\(|src=/i)
    expect(hrefs(html).every((h) => h === URL_WITH_QUERY)).toBe(true)
  })

  it('keeps the subject on one line', () => {
    expect(renderEmail('confirm', 'fr', confirm({ org: 'A\r\nBcc: x@y.test' })).subject).toBe(
      'Confirmez votre inscription – A Bcc: x@y.test',
    )
  })
})

describe('unescapeText', () => {
  it('undoes exactly what Handlebars escapes, in one pass', () => {
    expect(
      unescapeText('a &amp; b &lt;c&gt; &quot;d&quot; &#x27;e&#x27; &#x60;f&#x60; g&#x3D;h'),
    ).toBe('a & b <c> "d" \'e\' `f` g=h')
    expect(unescapeText('&amp;lt; &nbsp;')).toBe('&lt; &nbsp;')
  })
})
