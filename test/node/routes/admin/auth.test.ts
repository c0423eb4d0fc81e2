// Signing in to the console: CSRF, session expiry with a fixed clock, TOTP with replay refused,
// recovery codes used once, the lock-out and its lifting, the same answer for an unknown account.
import { describe, expect, it } from 'vitest'
import { totpCode } from '../../../../src/domain/admin/totp.ts'
import { SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from '../../../../src/domain/admin/sessions.ts'
import { THROTTLE } from '../../../../src/domain/admin/throttle.ts'
import { ADMIN_ROUTES } from '../../../../src/routes/admin/index.ts'
import { browser, makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { testApp } from '../../../helpers/deps.ts'

const setup = async () => {
  const t = await testApp({}, { pbkdf2Iterations: TEST_ITERATIONS })
  return { ...t, owner: await makeAdmin(t.deps, 'owner') }
}

describe('CSRF', () => {
  it('a cross-origin POST to any admin route answers 403, and changes nothing', async () => {
    const { app, deps, owner } = await setup()
    const b = await signIn(app, deps, owner)
    const csrf = await b.csrf()
    for (const r of ADMIN_ROUTES.filter((r) => r.method === 'POST')) {
      const res = await b.post(
        r.path.replace(/:\w+/, 'x'),
        { _csrf: csrf },
        { Origin: 'https://evil.example' },
      )
      expect([r.path, res.status]).toEqual([r.path, 403])
    }
    for (const path of ['/admin/sign-in', '/admin/setup']) {
      const res = await browser(app).post(
        path,
        { email: owner.email, password: owner.password },
        { Origin: 'https://evil.example' },
      )
      expect([path, res.status]).toEqual([path, 403])
    }
    expect((await b.get('/admin/account')).status).toBe(200) // still signed in
  })

  it("a same-origin POST without the session token, or with another session's, answers 403", async () => {
    const { app, deps, owner } = await setup()
    const b = await signIn(app, deps, owner)
    const other = await signIn(app, deps, { ...owner, totpSecret: owner.totpSecret })
    const theirs = await other.csrf()
    expect((await b.post('/admin/account/sessions/revoke-all', {})).status).toBe(403)
    expect((await b.post('/admin/account/sessions/revoke-all', { _csrf: theirs })).status).toBe(403)
    expect((await other.get('/admin/account')).status).toBe(200) // nothing revoked
    expect(
      (await b.post('/admin/account/sessions/revoke-all', { _csrf: await b.csrf() })).status,
    ).toBe(200)
    expect((await other.get('/admin/account')).status).toBe(303) // now signed out
  })

  it('the admin API refuses a browser write without the X-CSRF-Token header', async () => {
    const { app, deps, owner } = await setup()
    const b = await signIn(app, deps, owner)
    const call = (headers: Record<string, string>) =>
      app.request('http://gateway.test/api/v1/admin/ledger/verify', {
        method: 'POST',
        headers: { Cookie: b.cookie, ...headers },
      })
    expect((await call({ Origin: 'http://gateway.test' })).status).toBe(403)
    expect(
      (await call({ Origin: 'https://evil.example', 'X-CSRF-Token': await b.csrf() })).status,
    ).toBe(403)
    expect(
      (await call({ Origin: 'http://gateway.test', 'X-CSRF-Token': await b.csrf() })).status,
    ).toBe(200)
  })
})

describe('sessions', () => {
  it('the cookie is __Host-, Secure, HttpOnly, Path=/, SameSite=Strict; only its hash is stored', async () => {
    const { app, owner, sqlite } = await setup()
    const res = await browser(app).post('/admin/sign-in', {
      email: owner.email,
      password: owner.password,
    })
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toMatch(/^__Host-session=[A-Za-z0-9_-]{43};/)
    for (const attr of ['Secure', 'HttpOnly', 'Path=/', 'SameSite=Strict'])
      expect(cookie).toContain(attr)
    const token = /=([^;]+)/.exec(cookie)![1]!
    const ids = sqlite.prepare('SELECT id FROM sessions').pluck().all() as string[]
    expect(ids).not.toContain(token)
  })

  it('ends after 30 minutes idle (fixed clock); activity keeps it alive', async () => {
    const { app, deps, owner, clock } = await setup()
    const b = await signIn(app, deps, owner)
    clock.advance(SESSION_IDLE_MS - 60_000)
    expect((await b.get('/admin/account')).status).toBe(200)
    clock.advance(SESSION_IDLE_MS - 60_000) // idle again, but seen a moment ago
    expect((await b.get('/admin/account')).status).toBe(200)
    clock.advance(SESSION_IDLE_MS)
    const res = await b.get('/admin/account')
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toMatch(/^\/admin\/sign-in/)
  })

  it('ends 12 hours after sign-in however active', async () => {
    const { app, deps, owner, clock } = await setup()
    const b = await signIn(app, deps, owner)
    for (let t = 0; t < SESSION_ABSOLUTE_MS - 20 * 60_000; t += 20 * 60_000) {
      clock.advance(20 * 60_000)
      expect((await b.get('/admin')).status).toBe(200)
    }
    clock.advance(20 * 60_000)
    expect((await b.get('/admin')).status).toBe(303)
  })

  it('sign out ends the session', async () => {
    const { app, deps, owner } = await setup()
    const b = await signIn(app, deps, owner)
    const html = await (await b.get('/admin')).text()
    expect(html).toContain('Sign out')
    const csrf = await b.csrf()
    const cookie = b.cookie
    expect((await b.post('/admin/sign-out', { _csrf: csrf })).status).toBe(303)
    b.cookie = cookie // even a kept copy of the cookie no longer opens it
    const after = await b.get('/admin')
    expect(after.status).toBe(303)
    expect(after.headers.get('location')).toBe('/admin/sign-in?next=%2Fadmin')
    const form = await (await b.get('/admin/sign-in?lang=en')).text()
    expect(form).toContain('name="password"')
    expect(form).not.toContain('Sign out')
  })
})

describe('second factor', () => {
  it('TOTP with a fixed clock: the current code signs in; the same code again is refused (replay)', async () => {
    const { app, owner, clock } = await setup()
    clock.advance(60_000)
    const code = totpCode(owner.totpSecret!, clock.now())
    const first = browser(app)
    await first.post('/admin/sign-in', { email: owner.email, password: owner.password })
    expect((await first.get('/admin')).status).toBe(303) // the second factor is still due
    const ok = await first.post('/admin/sign-in/second-factor', {
      _csrf: await first.csrf('/admin/sign-in/second-factor'),
      code,
    })
    expect(ok.status).toBe(303)
    expect((await first.get('/admin')).status).toBe(200)

    const second = browser(app)
    await second.post('/admin/sign-in', { email: owner.email, password: owner.password })
    const replay = await second.post('/admin/sign-in/second-factor', {
      _csrf: await second.csrf('/admin/sign-in/second-factor'),
      code,
    })
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('already been used')
    expect((await second.get('/admin')).status).toBe(303)
    // A code of a step far away is refused too; the next step's code works.
    expect(
      (
        await second.post('/admin/sign-in/second-factor', {
          _csrf: await second.csrf('/admin/sign-in/second-factor'),
          code: totpCode(owner.totpSecret!, clock.now() + 5 * 60_000),
        })
      ).status,
    ).toBe(400)
    clock.advance(30_000)
    const next = await second.post('/admin/sign-in/second-factor', {
      _csrf: await second.csrf('/admin/sign-in/second-factor'),
      code: totpCode(owner.totpSecret!, clock.now()),
    })
    expect(next.status).toBe(303)
  })

  it('a recovery code works once', async () => {
    const { app, owner, sqlite } = await setup()
    const code = owner.recoveryCodes[3]!
    const first = browser(app)
    await first.post('/admin/sign-in', { email: owner.email, password: owner.password })
    const ok = await first.post('/admin/sign-in/second-factor', {
      _csrf: await first.csrf('/admin/sign-in/second-factor'),
      code: code.toUpperCase(),
    })
    expect(ok.status).toBe(303)
    const second = browser(app)
    await second.post('/admin/sign-in', { email: owner.email, password: owner.password })
    const again = await second.post('/admin/sign-in/second-factor', {
      _csrf: await second.csrf('/admin/sign-in/second-factor'),
      code,
    })
    expect(again.status).toBe(400)
    expect(owner.recoveryCodes).toHaveLength(10)
    const stored = sqlite.prepare('SELECT code_hash FROM recovery_codes').pluck().all() as string[]
    for (const c of owner.recoveryCodes) expect(stored.join()).not.toContain(c.replace('-', ''))
  })

  it('an owner without a second factor is sent to enrol it before anything else', async () => {
    const { app, deps } = await setup()
    const admin = await makeAdmin(deps, 'dpo', { totp: false })
    const b = browser(app)
    const res = await b.post('/admin/sign-in', { email: admin.email, password: admin.password })
    expect(res.headers.get('location')).toBe('/admin/enrol/totp')
    expect((await b.get('/admin/audit')).status).toBe(303)
    const factor = await b.get('/admin/sign-in/second-factor')
    expect(factor.headers.get('location')).toBe('/admin/enrol/totp')
    const page = await (await b.get('/admin/enrol/totp')).text()
    expect(page).toMatch(/otpauth:\/\/totp\//)
    const qr = await b.get('/admin/enrol/totp/qr.svg')
    expect(qr.headers.get('content-type')).toBe('image/svg+xml')
    expect(await qr.text()).toMatch(/^<svg/)
  })
})

describe('throttling and lock-out', () => {
  it('the same answer for an unknown account and a wrong password', async () => {
    const { app, owner } = await setup()
    const unknown = await browser(app).post('/admin/sign-in', {
      email: 'nobody@staff.example',
      password: 'whatever it is 123',
    })
    const wrong = await browser(app).post('/admin/sign-in', {
      email: owner.email,
      password: 'whatever it is 123',
    })
    expect(unknown.status).toBe(wrong.status)
    const text = (s: string) => s.replace(/value="[^"]*@staff\.example"/, '')
    expect(text(await unknown.text())).toBe(text(await wrong.text()))
  })

  it('growing delays, then a lock-out that a correct password does not open, until an owner lifts it', async () => {
    const { app, deps, owner, clock, logs } = await setup()
    const victim = await makeAdmin(deps, 'marketer')
    const attempt = (password: string) =>
      browser(app).post('/admin/sign-in?lang=en', { email: victim.email, password })
    for (let i = 1; i <= THROTTLE.freeFailures; i++)
      expect((await attempt('wrong password ' + i)).status).toBe(400)
    expect((await attempt('wrong password again')).status).toBe(400)
    const throttled = await attempt(victim.password) // too soon, even with the right password
    expect(throttled.status).toBe(429)
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0)
    let locked = false
    for (let i = 0; i < 20 && !locked; i++) {
      clock.advance(THROTTLE.maxDelayMs)
      locked = (await attempt('still wrong ' + i)).status === 429 || locked
      if (!locked) locked = (await (await attempt('x')).text()).includes('locked')
    }
    clock.advance(THROTTLE.maxDelayMs)
    const refused = await attempt(victim.password)
    expect(refused.status).toBe(429)
    expect(await refused.text()).toContain('locked')

    const b = await signIn(app, deps, owner)
    const users = await (await b.get('/admin/users')).text()
    expect(users).toContain('locked')
    const unlock = await b.post(`/admin/users/${victim.id}/unlock`, {
      _csrf: await b.csrf('/admin/users'),
    })
    expect(unlock.status).toBe(200)
    expect((await attempt(victim.password)).status).toBe(303)
    // Nothing secret was logged.
    expect(JSON.stringify(logs)).not.toContain(victim.password)
  })
})

describe('set-up links', () => {
  it('guessing tokens is rate-limited per client address', async () => {
    const { app } = await setup()
    const b = browser(app)
    let status = 0
    for (let i = 0; i < 40 && status !== 429; i++)
      status = (await b.get(`/admin/setup?token=guess${i}`)).status
    expect(status).toBe(429)
  })
})
