import type { ServerType } from '@hono/node-server'
import { once } from 'node:events'
import { connect, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ServerResponse } from 'node:http'
import { Context } from 'hono'
import { createApp } from '../../../../src/app.ts'
import { newSession, SESSION_COOKIE } from '../../../../src/domain/admin/sessions.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { preferencesUrl } from '../../../../src/domain/sending/links.ts'
import { TALLY_FLUSH_MS } from '../../../../src/domain/platform/counters.ts'
import { jsonLogger } from '../../../../src/lib/log.ts'
import { KEEP_ALIVE_TIMEOUT_MS, nodeEdge, serveGateway } from '../../../../src/runtime/node/edge.ts'
import { makeAdmin } from '../../../helpers/admin.ts'
import { apiKey } from '../../../helpers/api.ts'
import { countersIn } from '../../../helpers/counters.ts'
import { API_CONSENT, testDeps } from '../../../helpers/deps.ts'

// The Node listener sends the security headers, the request id and the access log itself (the app
// skips its own copies there): these are the same promises as app.test.ts makes, over a real socket.
const servers: ServerType[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

async function served(env = {}) {
  const t = await testDeps(env)
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveGateway(t.deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  servers.push(server)
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { ...t, base, get: (path: string, init?: RequestInit) => fetch(base + path, init) }
}

describe('the Node edge', () => {
  it('sends the strict security headers and no-store on every answer, once each', async () => {
    const { get } = await served({ PUBLIC_URL: 'https://consent.example.com' })
    for (const path of ['/healthz', '/', '/nowhere', '/api/v1/nowhere']) {
      const res = await get(path)
      expect(res.headers.get('content-security-policy'), path).toContain("default-src 'none'")
      expect(res.headers.get('x-frame-options'), path).toBe('DENY')
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff')
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer')
      expect(res.headers.get('strict-transport-security'), path).toContain('max-age=31536000')
      expect(res.headers.get('cache-control'), path).toBe('no-store')
    }
  })

  it("lets a route's own header win over the default", async () => {
    const { get } = await served()
    const css = await get('/assets/site.css')
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600')
    expect(css.headers.get('content-type')).toContain('text/css')
    const jwks = await get('/.well-known/jwks.json')
    expect(jwks.headers.get('cache-control')).toBe('public, max-age=300')
  })

  it('gives each request an id, keeps a sane proxy id, and logs one redacted line per request', async () => {
    const { get, logs } = await served()
    const res = await get('/healthz')
    const id = res.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const kept = await get('/healthz', { headers: { 'X-Request-Id': 'from-the-proxy-123' } })
    expect(kept.headers.get('x-request-id')).toBe('from-the-proxy-123')
    const odd = await get('/healthz', { headers: { 'X-Request-Id': 'no spaces <allowed>' } })
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    await get('/p/some.secret.token?lang=en')
    await expect.poll(() => logs.filter((l) => l.msg === 'request').length).toBe(4)
    const lines = logs.filter((l) => l.msg === 'request')
    expect(lines[0]).toMatchObject({ requestId: id, method: 'GET', path: '/healthz', status: 200 })
    expect(lines[1]).toMatchObject({ requestId: 'from-the-proxy-123' })
    expect(lines[3]).toMatchObject({ path: '/p/:redacted' })
    expect(JSON.stringify(logs)).not.toContain('secret')
  })

  it('hands the same id to the app, for its own log lines', async () => {
    const { get, logs, sqlite } = await served()
    sqlite.close()
    const res = await get('/healthz')
    expect(res.status).toBe(503)
    const id = res.headers.get('x-request-id')
    expect(logs.find((l) => l.msg === 'health check: database unavailable')?.requestId).toBe(id)
    await expect
      .poll(() => logs.find((l) => l.msg === 'request'))
      .toMatchObject({ requestId: id, status: 503, level: 'error' })
  })

  it('writes a page made of parts (src/lib/html-bytes.ts) byte for byte as the joined page', async () => {
    // The dashboard's shared content and the preference page go out part by part here, joined
    // without an edge (app.request, Workers): the bytes, their length and the headers must agree.
    const t = await served()
    const admin = await makeAdmin(t.deps, 'viewer')
    const session = await newSession(t.deps, admin.id, { secondFactor: true })
    await t.deps.atomic([session.query])
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'zoé@exemple.fr',
      purposes: ['cookies'],
    })
    if (!r.ok) throw new Error(r.message)
    const joined = createApp(t.deps)
    const cookie = { Cookie: `${SESSION_COOKIE}=${session.token}` }
    const pages = [
      { path: '/admin?lang=fr', headers: cookie },
      { path: '/admin?lang=en', headers: cookie },
      { path: `${new URL(await preferencesUrl(t.deps, r.contactId)).pathname}`, headers: {} },
    ]
    for (const { path, headers } of pages) {
      const wire = await t.get(path, { headers })
      const bytes = new Uint8Array(await wire.arrayBuffer())
      const expected = await joined.request(path, { headers })
      expect([wire.status, expected.status], path).toEqual([200, 200])
      expect(Buffer.from(bytes).equals(Buffer.from(await expected.arrayBuffer())), path).toBe(true)
      expect(Number(wire.headers.get('content-length')), path).toBe(bytes.byteLength)
      expect(wire.headers.get('content-type'), path).toBe('text/html; charset=UTF-8')
      expect(wire.headers.get('x-frame-options'), path).toBe('DENY')
      expect(bytes.includes(0), path).toBe(false)
      expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes), path).toMatch(/<\/html>\s*$/)
      const head = await t.get(path, { method: 'HEAD', headers })
      expect([head.status, (await head.arrayBuffer()).byteLength], path).toEqual([200, 0])
    }
  })

  it("adds the defaults on every way Node writes a head, and a listener's own headers win", async () => {
    // Not through Hono: the paths @hono/node-server does not take (an implicit head after setHeader,
    // a reason phrase, a flat list with a repeated header) must keep the same promises.
    const edge = nodeEdge(
      [
        ['X-Frame-Options', 'DENY'],
        ['Cache-Control', 'no-store'],
      ],
      jsonLogger(() => {}),
    )
    const routes: Record<string, (res: ServerResponse) => void> = {
      '/implicit': (res) => {
        res.setHeader('Cache-Control', 'private')
        res.end('body')
      },
      '/reason': (res) => {
        res.writeHead(418, 'Short And Stout', [['Content-Type', 'text/plain']])
        res.end()
      },
      '/flat': (res) => {
        res.writeHead(200, [
          'x-frame-options',
          'SAMEORIGIN',
          'Set-Cookie',
          'a=1',
          'Set-Cookie',
          'b=2',
        ])
        res.end()
      },
      // The shape @hono/node-server hands over, with the cookies as one array.
      '/object': (res) => {
        res.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'Cache-Control': 'private' })
        res.end()
      },
    }
    const server = edge.createServer({}, (req, res) => routes[req.url!]!(res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(server as ServerType)
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

    const implicit = await fetch(`${base}/implicit`)
    expect(implicit.headers.get('cache-control')).toBe('private')
    expect(implicit.headers.get('x-frame-options')).toBe('DENY')
    expect(implicit.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await implicit.text()).toBe('body')

    const reason = await fetch(`${base}/reason`)
    expect([reason.status, reason.statusText]).toEqual([418, 'Short And Stout'])
    expect(reason.headers.get('content-type')).toBe('text/plain')
    expect(reason.headers.get('cache-control')).toBe('no-store')

    const flat = await fetch(`${base}/flat`)
    expect(flat.headers.get('x-frame-options')).toBe('SAMEORIGIN')
    expect(flat.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(flat.headers.get('cache-control')).toBe('no-store')

    const object = await fetch(`${base}/object`)
    expect(object.headers.getSetCookie()).toEqual(['a=1', 'b=2'])
    expect(object.headers.get('cache-control')).toBe('private')
    expect(object.headers.get('x-frame-options')).toBe('DENY')
  })

  it('counts refusals on a timer without asking Hono for an ExecutionContext (Node has none)', async () => {
    // Hono's getter throws where the runtime gives none: an Error and its stack on every request
    // that counted a refusal, some 8 µs of a gate call's CPU at a million contacts (bench/results.md).
    const asked = vi.spyOn(Context.prototype, 'executionCtx', 'get')
    try {
      const { base, deps, sqlite } = await served()
      const key = await apiKey(deps, ['gate'])
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${base}/api/v1/gate`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            purpose: 'newsletter',
            contacts: [{ email: `n${i}@exemple.fr` }],
          }),
        })
        expect(await res.json()).toMatchObject({ results: [{ reason: 'unknown_contact' }] })
      }
      await expect
        .poll(() => [...countersIn(sqlite, 'sends_refused').values()], {
          timeout: TALLY_FLUSH_MS + 2_000,
        })
        .toEqual([5])
      expect(asked).not.toHaveBeenCalled()
    } finally {
      asked.mockRestore()
    }
  })

  it("keeps an idle keep-alive connection open past Node's 5 s, as a reverse proxy expects", async () => {
    const { base } = await served()
    const socket = connect(Number(new URL(base).port), '127.0.0.1')
    await once(socket, 'connect')
    let received = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk))
    const answered = async (count: number) => {
      for (let i = 0; i < 100 && received.split('HTTP/1.1 200').length - 1 < count; i++)
        await new Promise((r) => setTimeout(r, 20))
      return received.split('HTTP/1.1 200').length - 1
    }
    const ask = () => socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    ask()
    expect(await answered(1)).toBe(1)
    // With its default keepAliveTimeout (5 s), Node has closed the socket by 6 s.
    await new Promise((r) => setTimeout(r, 7_500))
    expect(socket.readyState).toBe('open')
    ask()
    expect(await answered(2)).toBe(2)
    socket.destroy()
    expect(KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000) // nginx's and AWS load balancers' 60 s
  }, 15_000)
})
