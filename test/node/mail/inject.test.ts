// Link injection: the footer (HTML before the last </body>, text after "-- "), placeholders, idempotence,
// list headers; then properties over arbitrary parts (nothing removed or moved, idempotent, links present).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { allHeaders } from '../../../src/mail/headers.ts'
import {
  HTML_FOOTER_START,
  injectLinks,
  listHeadersFor,
  listIdFor,
  mailtoFor,
  type InjectInput,
} from '../../../src/mail/inject.ts'
import { escapeAttribute } from '../../../src/mail/inject-html.ts'
import { RECENT_MAX } from '../../../src/mail/inject-parts.ts'
import { unescapeText } from '../../../src/mail/render.ts'

const UNSUB = 'https://gateway.test/u/eyJhbGciOi.x-y_z?a=1&b=2'
const PREFS = 'https://gateway.test/p/eyJwcmVm.q-r_s'
const UNSUB_ATTR = 'https://gateway.test/u/eyJhbGciOi.x-y_z?a&#x3D;1&amp;b&#x3D;2'
const base: InjectInput = {
  locale: 'fr',
  org: 'ACME',
  unsubscribeUrl: UNSUB,
  preferencesUrl: PREFS,
}
const inject = (over: Partial<InjectInput>) => injectLinks({ ...base, ...over })

/** The href values of an HTML part, entities decoded. */
const hrefs = (html: string) =>
  [...html.matchAll(/href="([^"]*)"/g)].map((m) => unescapeText(m[1]!))
const footerOf = (html: string) => html.slice(html.indexOf(HTML_FOOTER_START))
const count = (hay: string, needle: string) => hay.split(needle).length - 1

describe('injectLinks: HTML part', () => {
  it('puts the footer right before </body>, with both links escaped in href', () => {
    const html = '<html><body><p>Promo</p></body></html>'
    const out = inject({ html }).html!
    expect(out.startsWith('<html><body><p>Promo</p><!-- consent-gateway:footer -->')).toBe(true)
    expect(out.endsWith('<!-- /consent-gateway:footer -->\n</body></html>')).toBe(true)
    expect(hrefs(out)).toEqual([UNSUB, PREFS])
    expect(out).toContain(`href="${UNSUB_ATTR}"`)
    expect(out).not.toContain('a=1&b') // a raw & never reaches the HTML
  })

  it.each([
    ['upper case, space before >', '<BODY><p>x</p></BODY >', '</BODY >'],
    ['an earlier </body> in a comment', '<body><!-- </body> --><p>x</p></body>', '</body>'],
    [
      'an earlier </body> in the text',
      '<body><pre>end with </body></pre><p>x</p></Body>',
      '</Body>',
    ],
  ])('inserts before the last </body> (%s)', (_name, html, close) => {
    const out = inject({ html }).html!
    const at = html.lastIndexOf(close)
    expect(out.startsWith(html.slice(0, at) + HTML_FOOTER_START)).toBe(true)
    expect(out.endsWith(`<!-- /consent-gateway:footer -->\n${html.slice(at)}`)).toBe(true)
  })

  it('never inserts inside a comment: a later </body> there is skipped', () => {
    const html = '<body><p>x</p></body><!--[if mso]></body><![endif]-->'
    const out = inject({ html }).html!
    expect(out.indexOf(HTML_FOOTER_START)).toBe(html.indexOf('</body>'))
  })

  it('appends the footer when there is no </body>', () => {
    const html = '<p>Just a fragment</p>'
    const out = inject({ html }).html!
    expect(out.startsWith(html + HTML_FOOTER_START)).toBe(true)
    expect(hrefs(out)).toEqual([UNSUB, PREFS])
  })

  it('is in the contact’s language: French, then English', () => {
    const fr = footerOf(inject({ html: '', org: 'ACME & Co' }).html!)
    expect(fr).toContain('lang="fr"')
    expect(fr).toContain('ACME &amp; Co vous envoie ce message parce que vous avez accepté')
    expect(fr).toContain('>Se désinscrire</a>')
    expect(fr).toContain('>Gérer mes préférences</a>')
    const en = footerOf(inject({ html: '', locale: 'en' }).html!)
    expect(en).toContain('lang="en"')
    expect(en).toContain('ACME sends you this e-mail because you agreed to receive its mailings.')
    expect(en).toContain('>Unsubscribe</a>')
    expect(en).toContain('>Manage my preferences</a>')
  })
  it('renders each mail with its own links, sender and language (footers are reused, URLs are not)', () => {
    const other = {
      unsubscribeUrl: 'https://gateway.test/u/other',
      preferencesUrl: 'https://gateway.test/p/other',
    }
    const first = inject({ html: '<body></body>', text: 'x' })
    const second = inject({
      html: '<body></body>',
      text: 'x',
      ...other,
      org: 'Zeta & Co',
      locale: 'en',
    })
    const third = inject({ html: '<body></body>', text: 'x' })
    expect(hrefs(second.html!)).toEqual([other.unsubscribeUrl, other.preferencesUrl])
    expect(second.html).toContain('Zeta &amp; Co')
    expect(second.text).toContain('Zeta & Co')
    expect(second.text).toContain(other.unsubscribeUrl)
    expect(second.html! + second.text!).not.toContain('eyJ')
    expect(third).toEqual(first)
    expect(first.html! + first.text!).not.toContain('other')
    expect(first.html! + first.text! + second.html! + second.text!).not.toContain('.invalid')
  })
})

describe('injectLinks: text part', () => {
  it('appends both links after a "-- " line, URLs intact, French typography', () => {
    const out = inject({ text: 'Bonjour,\nnos offres.' }).text!
    expect(out).toBe(
      'Bonjour,\nnos offres.\n\n-- \n' +
        'ACME vous envoie ce message parce que vous avez accepté de recevoir ses communications.\n' +
        `Se désinscrire\u00a0: ${UNSUB}\n` +
        `Gérer mes préférences\u00a0: ${PREFS}\n`,
    )
  })

  it('in English, and org names are neither escaped nor split over lines', () => {
    const out = inject({ text: 'Hello\n', locale: 'en', org: 'ACME\n& "Co"' }).text!
    expect(out).toBe(
      'Hello\n\n-- \nACME & "Co" sends you this e-mail because you agreed to receive its mailings.\n' +
        `Unsubscribe: ${UNSUB}\nManage my preferences: ${PREFS}\n`,
    )
  })

  it('joins an existing signature instead of adding a second separator; keeps CRLF', () => {
    const out = inject({ text: 'Hi\r\n-- \r\nThe team', locale: 'en' }).text!
    expect(out.startsWith('Hi\r\n-- \r\nThe team\r\n\r\nACME sends you')).toBe(true)
    expect(count(out, '-- ')).toBe(1)
    expect(out.endsWith(`Unsubscribe: ${UNSUB}\r\nManage my preferences: ${PREFS}\r\n`)).toBe(true)
  })

  it('leaves out a part that was not given', () => {
    expect(inject({ text: 'x' })).not.toHaveProperty('html')
    expect(inject({ html: 'x' })).not.toHaveProperty('text')
  })
})

describe('injectLinks: placeholders', () => {
  it('fills both (any spacing, every occurrence) and adds no footer', () => {
    const html = '<a href="{{unsubscribe_url}}">Stop</a> <a href="{{ preferences_url }}">Prefs</a>'
    const text = 'Stop: {{unsubscribe_url}}\nPrefs: {{  preferences_url\t}} / {{preferences_url}}'
    const out = inject({ html, text })
    expect(out.html).toBe(`<a href="${UNSUB_ATTR}">Stop</a> <a href="${PREFS}">Prefs</a>`)
    expect(out.text).toBe(`Stop: ${UNSUB}\nPrefs: ${PREFS} / ${PREFS}`)
  })

  it('with only one placeholder: fills it and the footer carries only the other link', () => {
    const out = inject({
      html: '<body><a href="{{unsubscribe_url}}">Stop</a></body>',
      text: 'Prefs: {{preferences_url}}',
    })
    expect(hrefs(out.html!)).toEqual([UNSUB, PREFS])
    expect(hrefs(footerOf(out.html!))).toEqual([PREFS])
    expect(out.text).toContain(`Se désinscrire\u00a0: ${UNSUB}\n`)
    expect(count(out.text!, PREFS)).toBe(1)
    expect(out.text).not.toContain('Gérer mes préférences')
  })

  it('does not count a link in an HTML comment as placed', () => {
    const out = inject({ html: '<body><!-- <a href="{{unsubscribe_url}}"> --></body>' }).html!
    expect(hrefs(footerOf(out))).toEqual([UNSUB, PREFS])
  })

  it('inserts a URL holding "$&" literally', () => {
    const odd = 'https://gateway.test/u/t?x=$&y=$1'
    expect(inject({ text: '{{unsubscribe_url}}', unsubscribeUrl: odd }).text).toMatch(
      /^https:\/\/gateway\.test\/u\/t\?x=\$&y=\$1\n/,
    )
  })
})

describe('injectLinks: idempotence and bad input', () => {
  it.each([
    ['footer', { html: '<body><p>x</p></body>', text: 'x' }],
    [
      'placeholders',
      { html: '{{unsubscribe_url}} {{preferences_url}}', text: '{{unsubscribe_url}}' },
    ],
  ])('a mail injected twice comes out the same (%s)', (_name, parts) => {
    const once = inject(parts)
    expect(inject(once)).toEqual(once)
    expect(inject({ ...once, locale: 'en' })).toEqual(once) // already carries the HTML marker
  })

  it('adds no second footer to a mail that already has one, even with other links', () => {
    const once = inject({ html: '<body>x</body>', text: 'x' })
    const other = {
      unsubscribeUrl: 'https://other.test/u/1',
      preferencesUrl: 'https://other.test/p/1',
    }
    expect(inject({ ...once, ...other })).toEqual(once)
  })

  it.each([
    'javascript:alert(1)',
    '/u/relative',
    'https://g.test/u/a b',
    'https://g.test/{{x}}',
    // After URLs of https://gateway.test/ were accepted: the same start, a space in the path…
    'https://gateway.test/u/a b',
    // …and the same host with a port out of range.
    'https://gateway.test:99999/u/x',
  ])('refuses %j as a link, without quoting it (it may carry a token)', (url) => {
    inject({ html: 'x' }) // base's URLs, of https://gateway.test/, accepted first
    expect(() => inject({ unsubscribeUrl: url })).toThrow(/unsubscribeUrl is not an absolute/)
    expect(() => inject({ preferencesUrl: url })).toThrow(TypeError)
    const error = (() => {
      try {
        inject({ preferencesUrl: url })
      } catch (e) {
        return String(e)
      }
    })()
    expect(error).not.toContain(url)
  })
})

describe('listHeadersFor and mailtoFor', () => {
  it('gives the message its one-click List-Unsubscribe and a List-Id', () => {
    const mailto = mailtoFor('unsubscribe@example.com', 'eyJh.eyJz.c2ln')
    expect(mailto).toBe('mailto:unsubscribe+eyJh.eyJz.c2ln@example.com?subject=unsubscribe')
    const list = listHeadersFor({ unsubscribeUrl: UNSUB, mailto, listId: 'newsletter.example.com' })
    expect(list).toEqual({
      listUnsubscribe: { url: UNSUB, mailto, oneClick: true },
      headers: { 'List-Id': '<newsletter.example.com>' },
    })
    const message = { from: 'a@b.c', to: 'd@e.f', subject: 's', html: '', text: '', ...list }
    expect(allHeaders(message)).toEqual({
      'List-Id': '<newsletter.example.com>',
      'List-Unsubscribe': `<${UNSUB}>, <${mailto}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    })
  })

  it('has no mailto unless one is given', () => {
    const list = listHeadersFor({ unsubscribeUrl: UNSUB, listId: 'x.example.com' })
    expect(list.listUnsubscribe).toEqual({ url: UNSUB, oneClick: true })
    expect(() => listHeadersFor({ unsubscribeUrl: 'mailto:x@y.z', listId: 'a.b' })).toThrow()
  })

  it.each([
    ['newsletter.example.com', 'newsletter.example.com'],
    ['<News.Example.COM>', 'news.example.com'],
    ['email_marketing.gateway.test', 'email-marketing.gateway.test'],
    ['Lettre d’info..example.fr.', 'lettre-d-info.example.fr'],
    ['newsletter', 'newsletter.localhost'],
    ['a\r\nList-Id: x.y', 'a-list-id-x.y'],
  ])('List-Id %j becomes <%s>', (raw, id) => {
    expect(listIdFor(raw)).toBe(id)
  })

  it('refuses a List-Id with nothing usable, or too long', () => {
    expect(() => listIdFor(' <…> ')).toThrow(TypeError)
    expect(() => listIdFor(`${'a'.repeat(250)}.example`)).toThrow(TypeError)
  })

  it('accepts a mailto: address and refuses odd addresses or tokens', () => {
    expect(mailtoFor('mailto:u@ex.org', 'tok')).toBe('mailto:u+tok@ex.org?subject=unsubscribe')
    expect(() => mailtoFor('Unsub <u@ex.org>', 'tok')).toThrow(TypeError)
    expect(() => mailtoFor('u@ex.org', 'a/b')).toThrow(TypeError)
    expect(() => mailtoFor('u@ex.org', 'a..b')).toThrow(TypeError)
  })
})

describe('injectLinks: properties over arbitrary parts', () => {
  const RUNS = { numRuns: 400 }
  const fragment = fc.constantFrom(
    '</body>',
    '</BODY >',
    '</Body\n>',
    '<body>',
    '<!--',
    '-->',
    '<!-->',
    '{{',
    '}}',
    '{{unsubscribe_url}}',
    '{{ preferences_url }}',
    '-- \n',
    '\r\n',
    '\n',
    '&amp;',
    'é',
    '🙂',
    HTML_FOOTER_START,
  )
  const part = fc
    .array(fc.oneof(fragment, fc.string({ unit: 'binary' })), { maxLength: 12 })
    .map((xs) => xs.join(''))
  const tokenUrl = fc
    .tuple(fc.constantFrom('https://gateway.test', 'http://localhost:8787'), fc.base64String())
    .map(([origin, tok]) => `${origin}/u/${tok.replace(/[+/=]/g, '_')}x?a=1&b=2`)
  const url = fc.oneof(tokenUrl, fc.webUrl({ withQueryParameters: true, withFragments: true }))
  const input = fc.record({
    html: part,
    text: part,
    locale: fc.constantFrom('fr' as const, 'en' as const),
    org: fc.string({ minLength: 1, maxLength: 20 }),
    unsubscribeUrl: url,
    preferencesUrl: url,
  })
  const PLACEHOLDERS = /\{\{\s*(unsubscribe|preferences)_url\s*\}\}/g

  /** `needle`'s characters appear in `hay` in the same order (an ordered subsequence). */
  const isSubsequence = (needle: string, hay: string) => {
    let j = 0
    for (let i = 0; i < hay.length && j < needle.length; i++) if (hay[i] === needle[j]) j++
    return j === needle.length
  }
  /** `out` is `original` with one block inserted somewhere: original prefix + block + original suffix. */
  const isInsertion = (original: string, out: string) => {
    let p = 0
    while (p < original.length && original[p] === out[p]) p++
    let s = 0
    while (s < original.length - p && original.at(-1 - s) === out.at(-1 - s)) s++
    return p + s === original.length
  }

  it('(a) removes and reorders nothing: placeholders aside, the original is kept in order', () => {
    fc.assert(
      fc.property(input, (i) => {
        const out = injectLinks(i)
        for (const key of ['html', 'text'] as const) {
          const original = i[key]
          if (original.search(PLACEHOLDERS) >= 0)
            expect(isSubsequence(original.replace(PLACEHOLDERS, ''), out[key]!)).toBe(true)
          else expect(isInsertion(original, out[key]!)).toBe(true)
        }
      }),
      RUNS,
    )
  })

  it('(b) is idempotent', () => {
    fc.assert(
      fc.property(input, (i) => {
        const once = injectLinks(i)
        expect(injectLinks({ ...i, ...once })).toEqual(once)
      }),
      RUNS,
    )
  })

  it('(d) injects a part seen before as one seen for the first time (nothing of another mail kept)', () => {
    const other = fc.record({
      locale: fc.constantFrom('fr' as const, 'en' as const),
      org: fc.string({ minLength: 1, maxLength: 20 }),
      unsubscribeUrl: url,
      preferencesUrl: url,
    })
    // A part as long as one seen before, one character changed: kept parts are found by content.
    const edit = fc.tuple(fc.nat(), fc.constantFrom('<', '>', '/', '-', '!', '{', '}', '\n', 'x'))
    const edited = (part: string, [at, c]: [number, string]) =>
      part === '' ? part : part.slice(0, at % part.length) + c + part.slice((at % part.length) + 1)
    // As many other parts as are kept (each of a length no other part has) make it forget the rest.
    let forgotten = 0
    const forget = () => {
      for (let k = 0; k < RECENT_MAX; k++) {
        const part = 'x'.repeat(5_000 + ++forgotten)
        injectLinks({ ...base, html: part, text: part })
      }
    }
    fc.assert(
      fc.property(input, other, edit, edit, (first, next, htmlEdit, textEdit) => {
        const parts = { html: edited(first.html, htmlEdit), text: edited(first.text, textEdit) }
        injectLinks(first)
        const seen = [
          injectLinks({ ...next, ...parts }),
          injectLinks({ ...next, html: first.html, text: first.text }),
        ]
        forget()
        expect(seen[0]).toEqual(injectLinks({ ...next, ...parts }))
        forget()
        expect(seen[1]).toEqual(injectLinks({ ...next, html: first.html, text: first.text }))
      }),
      RUNS,
    )
  })

  it('(c) puts both URLs in each part (a part already carrying the footer is left as it is)', () => {
    fc.assert(
      fc.property(input, (i) => {
        const out = injectLinks(i)
        if (i.html.includes(HTML_FOOTER_START)) expect(out.html).toBe(i.html)
        else
          for (const u of [i.unsubscribeUrl, i.preferencesUrl])
            expect(out.html).toContain(escapeAttribute(u))
        for (const u of [i.unsubscribeUrl, i.preferencesUrl]) expect(out.text).toContain(u)
      }),
      RUNS,
    )
  })
})
