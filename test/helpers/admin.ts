/** Staff accounts for tests, made through the real domain, and a browser-like client for /admin. */
import type { App } from '../../src/app.ts'
import type { Deps } from '../../src/deps.ts'
import { completeSetupPassword, createAccount, openSetup } from '../../src/domain/admin/accounts.ts'
import type { Role } from '../../src/domain/admin/permissions.ts'
import { confirmTotp, pendingTotp } from '../../src/domain/admin/second-factor.ts'
import { sessionAfterSetup } from '../../src/domain/admin/signin.ts'
import { findAdmin } from '../../src/domain/admin/accounts.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'

export const STRONG_PASSWORD = 'violet tractor harbour giraffe 42'
/** Tests hash with few iterations; the runtimes' counts are tested on their own. */
export const TEST_ITERATIONS = 1000

export interface TestAdmin {
  id: string
  email: string
  password: string
  role: Role
  totpSecret?: string
  recoveryCodes: string[]
}

/** An active account: invited, password set through its link, TOTP enrolled unless `totp: false`. */
export async function makeAdmin(
  deps: Deps,
  role: Role,
  opts: { email?: string; totp?: boolean } = {},
): Promise<TestAdmin> {
  const email = opts.email ?? `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example`
  const created = await createAccount(deps, { email, role, mail: false }, { actor: 'cli' })
  if (!created.ok) throw new Error(created.error)
  const token = new URL(created.url).searchParams.get('token')!
  const access = await openSetup(deps, token, undefined)
  if (!access.ok) throw new Error(access.reason)
  const set = await completeSetupPassword(
    deps,
    access,
    { password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, locale: 'en' },
    { actor: 'cli' },
  )
  if (!set.ok) throw new Error(set.error)
  const admin: TestAdmin = {
    id: set.user.id,
    email,
    password: STRONG_PASSWORD,
    role,
    recoveryCodes: [],
  }
  if (opts.totp === false) return admin
  const session = await sessionAfterSetup(deps, set.user, { actor: 'cli' })
  const { secret } = await pendingTotp(deps, (await findAdmin(deps, set.user.id))!)
  const r = await confirmTotp(
    deps,
    (await findAdmin(deps, set.user.id))!,
    totpCode(secret, deps.clock.now()),
    session.id,
    { actor: 'cli' },
  )
  if (!r.ok) throw new Error('TOTP enrolment failed')
  return { ...admin, totpSecret: secret, recoveryCodes: r.recoveryCodes }
}

/** A cookie-keeping client for the console, as a browser on the gateway's origin. */
export function browser(app: App, origin = 'http://gateway.test') {
  let cookie = ''
  const request = async (
    method: string,
    path: string,
    form?: Record<string, string>,
    headers: Record<string, string> = {},
  ) => {
    const res = await app.request(`${origin}${path}`, {
      method,
      headers: {
        ...(cookie ? { Cookie: cookie } : {}),
        ...(form ? { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin } : {}),
        ...headers,
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    })
    const set = res.headers.get('set-cookie')
    if (set) {
      const m = /__Host-session=([^;]*)/.exec(set)
      if (m) cookie = m[1] ? `__Host-session=${m[1]}` : ''
    }
    return res
  }
  return {
    get: (path: string, headers?: Record<string, string>) =>
      request('GET', path, undefined, headers),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) =>
      request('POST', path, form, headers),
    get cookie() {
      return cookie
    },
    set cookie(v: string) {
      cookie = v
    },
    /** The CSRF token of the page at `path` (any admin page with a form). */
    async csrf(path = '/admin/account') {
      const html = await (await request('GET', path)).text()
      const m = /name="_csrf" value="([^"]+)"/.exec(html)
      if (!m) throw new Error(`no CSRF token on ${path}`)
      return m[1]!
    },
  }
}

/** Signs in through the pages: password, then the TOTP code of `now` when the account has one. */
export async function signIn(app: App, deps: Deps, admin: TestAdmin) {
  const b = browser(app)
  const res = await b.post('/admin/sign-in', { email: admin.email, password: admin.password })
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`)
  if (admin.totpSecret) {
    // A fixed clock: the enrolment's code was this step's, and a step is accepted once.
    ;(deps.clock as { advance?: (ms: number) => void }).advance?.(30_000)
    const csrf = await b.csrf('/admin/sign-in/second-factor')
    const r2 = await b.post('/admin/sign-in/second-factor', {
      _csrf: csrf,
      code: totpCode(admin.totpSecret, deps.clock.now()),
    })
    if (r2.status !== 303) throw new Error(`second factor answered ${r2.status}`)
  }
  return b
}
