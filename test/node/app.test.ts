import { describe, expect, it } from 'vitest'
import { HOOK_BODY_LIMIT, BODY_LIMIT } from '../../src/app.ts'
import { testApp } from '../helpers/deps.ts'

describe('GET /healthz', () => {
  it('answers 200 {"status":"ok"} when the database answers', async () => {
    const { app } = await testApp()
    const res = await app.request('/healthz')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok' })
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('answers 503 when the database is gone', async () => {
    const { app, sqlite, logs } = await testApp()
    sqlite.close()
    const res = await app.request('/healthz')
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'unavailable' })
    expect(logs.some((l) => l.msg === 'health check: database unavailable')).toBe(true)
  })
})

describe('errors by audience', () => {
  it('unknown /api route: 404 JSON error', async () => {
    const { app } = await testApp()
    const res = await app.request('/api/v1/nope')
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No such route' } })
  })

  it('unknown /hooks route: 404 JSON error', async () => {
    const { app } = await testApp()
    const res = await app.request('/hooks/unknown', { method: 'POST', body: '{}' })
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })

  it('unknown page: 404 page in the browser language, French by default', async () => {
    const { app } = await testApp()
    const fr = await app.request('/nowhere')
    expect(fr.status).toBe(404)
    const frHtml = await fr.text()
    expect(frHtml).toContain('<html lang="fr">')
    expect(frHtml).toContain('Page introuvable')
    const en = await app.request('/nowhere', {
      headers: { 'Accept-Language': 'en-GB,en;q=0.9,fr;q=0.5' },
    })
    expect(await en.text()).toContain('Page not found')
    const switched = await app.request('/nowhere?lang=en', { headers: { 'Accept-Language': 'fr' } })
    const html = await switched.text()
    expect(html).toContain('<html lang="en">')
    expect(html).toContain('href="/nowhere?lang&#x3D;fr"') // Handlebars escapes '='
  })

  it('oversized body: 413, JSON under /api, a page elsewhere', async () => {
    const { app } = await testApp()
    const big = 'x'.repeat(BODY_LIMIT + 1)
    const api = await app.request('/api/v1/subscriptions', { method: 'POST', body: big })
    expect(api.status).toBe(413)
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('payload_too_large')
    const page = await app.request('/subscribe/default', {
      method: 'POST',
      body: big,
      headers: {
        Origin: 'http://gateway.test',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
    })
    expect(page.status).toBe(413)
    expect(await page.text()).toContain('Demande trop volumineuse')
  })

  it('413 for a declared Content-Length over the limit, and for a chunked body that runs over it', async () => {
    const { app } = await testApp()
    const declared = await app.request('/api/v1/gate', {
      method: 'POST',
      headers: { 'Content-Length': String(BODY_LIMIT + 1) },
      body: 'x',
    })
    expect(declared.status).toBe(413)
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent > BODY_LIMIT) return ctl.close()
        sent += chunk.length
        ctl.enqueue(chunk)
      },
    })
    const chunked = await app.request('/api/v1/gate', {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit)
    expect(chunked.status).toBe(413)
  })

  it('webhooks accept more than 5 MB (Mautic queue mode) but not more than the hook limit', async () => {
    const { app } = await testApp()
    const fiveMb = await app.request('/hooks/none', {
      method: 'POST',
      body: 'x'.repeat(5 * 1024 * 1024 + 10),
    })
    expect(fiveMb.status).toBe(404) // past the body limit, on to routing
    const tooBig = await app.request('/hooks/none', {
      method: 'POST',
      body: 'x'.repeat(HOOK_BODY_LIMIT + 1),
    })
    expect(tooBig.status).toBe(413)
  })

  it('a thrown error is a 500 with a request id and no stack trace; the log has the details', async () => {
    const { app, logs } = await testApp()
    app.get('/boom', () => {
      throw new Error('secret internals at /u/abc for anne@exemple.fr')
    })
    app.get('/api/boom', () => {
      throw new Error('secret internals')
    })
    const page = await app.request('/boom')
    expect(page.status).toBe(500)
    const html = await page.text()
    expect(html).toContain('Une erreur est survenue')
    expect(html).toContain(page.headers.get('x-request-id')!)
    expect(html).not.toContain('secret internals')
    const api = await app.request('/api/boom')
    const body = await api.json()
    expect(body).toEqual({
      error: { code: 'internal_error', message: 'Something went wrong; nothing was changed' },
    })
    const logged = logs.find((l) => l.msg === 'unhandled error')
    expect(logged?.requestId).toBe(page.headers.get('x-request-id'))
    expect(JSON.stringify(logs)).not.toContain('anne@exemple.fr')
  })
})

describe('request ids, logs and headers', () => {
  it('puts a request id on every response and every log line', async () => {
    const { app, logs } = await testApp()
    const res = await app.request('/healthz')
    const id = res.headers.get('x-request-id')
    expect(id).toMatch(/^[\w-]{8,}$/)
    expect(logs.find((l) => l.msg === 'request')).toMatchObject({
      requestId: id,
      path: '/healthz',
      status: 200,
    })
    const given = await app.request('/healthz', {
      headers: { 'X-Request-Id': 'from-the-proxy-123' },
    })
    expect(given.headers.get('x-request-id')).toBe('from-the-proxy-123')
  })

  it('never logs a token path or an e-mail address', async () => {
    const { app, logs } = await testApp()
    const token =
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'
    for (const path of [
      `/u/${token}`,
      `/c/${token}`,
      `/p/${token}`,
      `/me/${token}/export`,
      '/api/v1/contacts/anne%40exemple.fr/consents',
      '/api/v1/contacts/anne@exemple.fr/consents',
    ])
      await app.request(path)
    const text = JSON.stringify(logs)
    expect(text).not.toContain(token)
    expect(text).not.toContain('anne')
    expect(logs.filter((l) => l.msg === 'request').map((l) => l.path)).toEqual([
      '/u/:redacted',
      '/c/:redacted',
      '/p/:redacted',
      '/me/:redacted/export',
      '/api/v1/contacts/:redacted/consents',
      '/api/v1/contacts/:redacted/consents',
    ])
  })

  it('sends strict security headers on pages', async () => {
    const { app } = await testApp()
    const res = await app.request('/')
    expect(res.status).toBe(200)
    const csp = res.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBe('no-referrer')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
  })

  it('serves HSTS only behind an https public URL', async () => {
    const http = await testApp()
    expect((await http.app.request('/')).headers.get('strict-transport-security')).toBeNull()
    const https = await testApp({ PUBLIC_URL: 'https://consent.example.com' })
    expect((await https.app.request('/')).headers.get('strict-transport-security')).toContain(
      'max-age=31536000',
    )
  })

  it('serves the stylesheet from its own host', async () => {
    const { app } = await testApp()
    const res = await app.request('/assets/site.css')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('text/css')
    expect(await res.text()).toContain('.skip')
  })
})

describe('origin check (CSRF) on forms', () => {
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' }

  it('refuses a form posted from another origin, or with no Origin, with a localized page', async () => {
    const { app } = await testApp()
    const evil = await app.request('/privacy', {
      method: 'POST',
      body: 'email=a@b.fr',
      headers: { ...form, Origin: 'https://evil.example' },
    })
    expect(evil.status).toBe(403)
    expect(await evil.text()).toContain('Action non autorisée')
    const none = await app.request('/privacy', {
      method: 'POST',
      body: 'email=a@b.fr',
      headers: form,
    })
    expect(none.status).toBe(403)
  })

  it('lets a same-origin form through to routing', async () => {
    const { app } = await testApp()
    const res = await app.request('/privacy', {
      method: 'POST',
      body: 'email=a@b.fr',
      headers: { ...form, Origin: 'http://gateway.test' },
    })
    expect(res.status).toBe(303) // the /privacy form answered: the origin check let it pass
  })

  it('exempts /c/ and /u/ (their token authorises them; RFC 8058 one-click posts carry no Origin)', async () => {
    const { app } = await testApp()
    for (const path of ['/u/some-token', '/c/some-token']) {
      const res = await app.request(path, {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: form,
      })
      expect(res.status, path).not.toBe(403)
    }
  })
})
