// The admin console inside workerd on D1: the first owner's set-up through ADMIN_SETUP_TOKEN (password,
// TOTP, recovery codes), sign-out and sign-in with a code; and PBKDF2 on Workers: new hashes use the
// runtime's 100,000 iterations, and an older, lower count is raised at the next sign-in.
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { completeSetupPassword, createAccount, openSetup } from '../../src/domain/admin/accounts.ts'
import { WORKERS_PBKDF2_ITERATIONS } from '../../src/domain/admin/passwords.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import { consoleClient } from './console-client.ts'

const PASSWORD = 'violet tractor harbour giraffe 42'

const client = consoleClient

const iterationsOf = async (email: string) => {
  const { deps } = await forEnv(env)
  const { findAdminByEmail } = await import('../../src/domain/admin/accounts.ts')
  return (await findAdminByEmail(deps, email))?.password_iterations
}

describe('admin console on Workers (workerd + D1)', () => {
  it('ADMIN_SETUP_TOKEN sets up the first owner in one sitting, then sign-out and sign-in with a code', async () => {
    const b = client()
    expect((await b.get('/admin/setup?token=wrong-token-0123456789')).status).toBe(404)
    const form = await b.get(`/admin/setup?token=${env.ADMIN_SETUP_TOKEN}&lang=en`)
    expect(form.status).toBe(200)
    expect(await form.text()).toContain('name="email"')
    const weak = await b.post('/admin/setup?lang=en', {
      token: env.ADMIN_SETUP_TOKEN,
      email: 'owner@acme.example',
      password: 'password1234',
      confirm: 'password1234',
    })
    expect(weak.status).toBe(400)
    expect(await weak.text()).toContain('too easy to guess')
    const set = await b.post('/admin/setup', {
      token: env.ADMIN_SETUP_TOKEN,
      email: 'owner@acme.example',
      password: PASSWORD,
      confirm: PASSWORD,
    })
    expect(set.status).toBe(303)
    expect(set.headers.get('location')).toBe('/admin/enrol/totp')
    expect(await iterationsOf('owner@acme.example')).toBe(WORKERS_PBKDF2_ITERATIONS)

    const enrol = await (await b.get('/admin/enrol/totp')).text()
    const secret = /<code class="secret">([A-Z2-7 ]+)<\/code>/.exec(enrol)![1]!.replace(/ /g, '')
    const qr = await b.get('/admin/enrol/totp/qr.svg')
    expect(await qr.text()).toMatch(/^<svg/)
    const csrf = /name="_csrf" value="([^"]+)"/.exec(enrol)![1]!
    const codes = await b.post('/admin/enrol/totp', {
      _csrf: csrf,
      code: totpCode(secret, Date.now()),
    })
    expect(codes.status).toBe(200)
    expect(
      (await codes.text()).match(/<li><code>[a-z0-9]{5}-[a-z0-9]{5}<\/code><\/li>/g),
    ).toHaveLength(10)
    expect((await b.get('/admin')).status).toBe(200)
    // The token stops working once an owner exists.
    expect((await client().get(`/admin/setup?token=${env.ADMIN_SETUP_TOKEN}`)).status).toBe(410)

    expect((await b.post('/admin/sign-out', { _csrf: await b.csrf('/admin') })).status).toBe(303)
    expect((await b.get('/admin')).status).toBe(303)
    const signIn = await b.post('/admin/sign-in', {
      email: 'owner@acme.example',
      password: PASSWORD,
    })
    expect(signIn.headers.get('location')).toMatch(/^\/admin\/sign-in\/second-factor/)
    // The enrolment used this step's code: the next step's is accepted (one step of drift allowed).
    const code = totpCode(secret, Date.now() + 30_000)
    const second = await b.post('/admin/sign-in/second-factor', {
      _csrf: await b.csrf('/admin/sign-in/second-factor'),
      code,
    })
    expect(second.status).toBe(303)
    expect(await (await b.get('/admin?lang=en')).text()).toContain('Sign out')
    // Passkeys: @simplewebauthn/server makes registration options in workerd too.
    const account = await b.get('/admin/account')
    expect(account.status).toBe(200)
    expect(account.headers.get('content-security-policy')).toContain("script-src 'self'")
    const options = JSON.parse(
      /data-options="([^"]+)"/.exec(await account.text())![1]!.replace(/&quot;/g, '"'),
    ) as { challenge: string; rp: { id: string } }
    expect(options.rp.id).toBe('gateway.test')
    expect(options.challenge).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    const script = await b.get('/admin/assets/passkey.js')
    expect(await script.text()).toContain('navigator.credentials.create')
  })

  it('re-hashes a password stored with fewer iterations at the next sign-in', async () => {
    const { deps } = await forEnv(env)
    const old = { ...deps, pbkdf2Iterations: 1000 }
    const made = await createAccount(
      old,
      { email: 'viewer@acme.example', role: 'viewer', mail: false },
      { actor: 'cli' },
    )
    if (!made.ok) throw new Error(made.error)
    const access = await openSetup(old, new URL(made.url).searchParams.get('token')!, undefined)
    if (!access.ok) throw new Error(access.reason)
    await completeSetupPassword(
      old,
      access,
      { password: PASSWORD, confirm: PASSWORD, locale: 'en' },
      { actor: 'cli' },
    )
    expect(await iterationsOf('viewer@acme.example')).toBe(1000)

    const b = client()
    const wrong = await b.post('/admin/sign-in', {
      email: 'viewer@acme.example',
      password: 'not it at all, sorry',
    })
    expect(wrong.status).toBe(400)
    expect(await iterationsOf('viewer@acme.example')).toBe(1000)
    const res = await b.post('/admin/sign-in', { email: 'viewer@acme.example', password: PASSWORD })
    expect(res.status).toBe(303)
    expect(await iterationsOf('viewer@acme.example')).toBe(WORKERS_PBKDF2_ITERATIONS)
    // The new hash still opens the account.
    const again = await client().post('/admin/sign-in', {
      email: 'viewer@acme.example',
      password: PASSWORD,
    })
    expect(again.status).toBe(303)
  })
})
