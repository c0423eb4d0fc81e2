/**
 * @module Signing in and setting up: /admin/sign-in (address and password), /admin/sign-in/second-factor
 * (a TOTP or recovery code, or a passkey), /admin/sign-out, /admin/step-up (a fresh second factor before
 * sensitive actions), /admin/setup (the one-time link, or ADMIN_SETUP_TOKEN while no owner exists) and
 * the enrolment of the second factor (/admin/enrol/…), all in one sitting.
 */
import type { Context, Hono } from 'hono'
import QRCode from 'qrcode'
import type { Deps } from '../../deps.ts'
import { completeSetupPassword, openSetup, type SetupAccess } from '../../domain/admin/accounts.ts'
import { authenticationOptions, checkPasskey, listPasskeys } from '../../domain/admin/passkeys.ts'
import { PASSWORD_MIN_LENGTH } from '../../domain/admin/passwords.ts'
import { SECOND_FACTOR_REQUIRED } from '../../domain/admin/permissions.ts'
import {
  checkSecondFactorCode,
  confirmTotp,
  pendingTotp,
} from '../../domain/admin/second-factor.ts'
import { revokeSessionQ, type LoadedSession } from '../../domain/admin/sessions.ts'
import { sessionAfterSetup, signInWithPassword } from '../../domain/admin/signin.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { hitRateLimit } from '../../domain/platform/rate-limits.ts'
import { t } from '../../lib/i18n.ts'
import {
  actorOf,
  adminLocale,
  adminMessage,
  adminPage,
  clearSessionCookie,
  field,
  guard,
  safeNext,
  setSessionCookie,
} from './context.ts'

export const SETUP_LIMIT = { limit: 30, windowMs: 10 * 60_000 }

export function authRoutes(deps: Deps, app: Hono) {
  const signInForm = (
    c: Context,
    opts: { email?: string; error?: string; status?: 200 | 400 | 429 } = {},
  ) =>
    adminPage(deps, c, 'admin/sign-in', {
      titleKey: 'admin.signIn.title',
      status: opts.status,
      data: {
        email: opts.email ?? '',
        error: opts.error ?? null,
        next: safeNext(c.req.query('next')),
      },
    })

  app.get('/sign-in', (c) => {
    const s = c.get('admin')
    if (s && !s.pending) return c.redirect(safeNext(c.req.query('next')), 303)
    return signInForm(c)
  })
  app.post('/sign-in', async (c) => {
    const locale = adminLocale(c)
    const email = (await field(c, 'email')).slice(0, 254)
    const password = await field(c, 'password')
    const r = await signInWithPassword(deps, { email, password }, actorOf(deps, c))
    if (!r.ok) {
      if (r.retryAfterMs) c.header('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)))
      const key =
        r.reason === 'locked'
          ? 'admin.signIn.locked'
          : r.reason === 'throttled'
            ? 'admin.signIn.throttled'
            : 'admin.signIn.invalid'
      return signInForm(c, {
        email,
        error: t(locale, key, { seconds: Math.ceil((r.retryAfterMs ?? 0) / 1000) }),
        status: r.reason === 'invalid' ? 400 : 429,
      })
    }
    setSessionCookie(c, r.token)
    const next = safeNext(await field(c, 'next'))
    if (r.next === 'second-factor')
      return c.redirect(`/admin/sign-in/second-factor?next=${encodeURIComponent(next)}`, 303)
    if (r.next === 'enrol') return c.redirect('/admin/enrol/totp', 303)
    return c.redirect(next, 303)
  })

  const factorPage = async (
    c: Context,
    view: 'second-factor' | 'step-up',
    error?: string,
    status: 200 | 400 | 429 = 200,
  ) => {
    const s = c.get('admin')!
    const options = await authenticationOptions(deps, s.user)
    return adminPage(deps, c, `admin/${view}`, {
      titleKey: view === 'step-up' ? 'admin.stepUp.title' : 'admin.secondFactor.title',
      status,
      script: options !== null,
      data: {
        error: error ?? null,
        next: safeNext(c.req.query('next')),
        hasTotp: s.user.totp_enabled_at !== null,
        passkeyOptions: options ? JSON.stringify(options) : null,
      },
    })
  }
  const codeResult = async (c: Context, purpose: 'signin' | 'stepup') => {
    const s = c.get('admin')!
    const r = await checkSecondFactorCode(
      deps,
      s.user,
      (await field(c, 'code')).slice(0, 40),
      purpose,
      s.session.id,
      actorOf(deps, c),
    )
    if (r.ok) return c.redirect(safeNext(await field(c, 'next')), 303)
    const locale = adminLocale(c)
    const error = r.locked
      ? t(locale, 'admin.signIn.locked')
      : r.retryAfterMs
        ? t(locale, 'admin.signIn.throttled', { seconds: Math.ceil(r.retryAfterMs / 1000) })
        : t(locale, 'admin.secondFactor.invalid')
    return factorPage(
      c,
      purpose === 'signin' ? 'second-factor' : 'step-up',
      error,
      r.locked || r.retryAfterMs ? 429 : 400,
    )
  }
  const passkeyResult = async (c: Context, purpose: 'signin' | 'stepup') => {
    const s = c.get('admin')!
    let response: unknown
    try {
      response = JSON.parse((await field(c, 'credential')).slice(0, 20_000))
    } catch {
      response = null
    }
    if (
      response &&
      (await checkPasskey(deps, s.user, response, purpose, s.session.id, actorOf(deps, c)))
    )
      return c.redirect(safeNext(await field(c, 'next')), 303)
    return factorPage(
      c,
      purpose === 'signin' ? 'second-factor' : 'step-up',
      t(adminLocale(c), 'admin.passkey.failed'),
      400,
    )
  }

  guard(
    deps,
    app,
    'GET',
    '/sign-in/second-factor',
    null,
    async (c, s) => {
      if (!s.pending) return c.redirect('/admin', 303)
      // A role that needs a second factor, and none yet: enrol it first.
      if (await enrolling(s)) return c.redirect('/admin/enrol/totp', 303)
      return factorPage(c, 'second-factor')
    },
    { allowPending: true },
  )
  guard(deps, app, 'POST', '/sign-in/second-factor', null, (c) => codeResult(c, 'signin'), {
    allowPending: true,
  })
  guard(deps, app, 'POST', '/sign-in/passkey', null, (c) => passkeyResult(c, 'signin'), {
    allowPending: true,
  })
  guard(deps, app, 'GET', '/step-up', null, (c) => factorPage(c, 'step-up'))
  guard(deps, app, 'POST', '/step-up', null, (c) => codeResult(c, 'stepup'))
  guard(deps, app, 'POST', '/step-up/passkey', null, (c) => passkeyResult(c, 'stepup'))

  guard(
    deps,
    app,
    'POST',
    '/sign-out',
    null,
    async (c, s) => {
      await recordAudit(
        deps,
        { ...actorOf(deps, c), action: 'signout', target: `user:${s.user.id}` },
        [revokeSessionQ(deps, s.session.id)],
      )
      clearSessionCookie(c)
      return c.redirect(`/admin/sign-in?lang=${adminLocale(c)}`, 303)
    },
    { allowPending: true },
  )

  // Set-up: the one-time link (or ADMIN_SETUP_TOKEN), then the second factor, then recovery codes.
  const setupToken = () => deps.config.adminSetupToken
  const setupForm = (
    c: Context,
    access: Extract<SetupAccess, { ok: true }>,
    token: string,
    error?: string,
    email = '',
  ) =>
    adminPage(deps, c, 'admin/setup', {
      titleKey: 'admin.setup.title',
      status: error ? 400 : 200,
      data: {
        token,
        askEmail: access.kind === 'first-owner',
        email,
        role: t(
          adminLocale(c),
          `admin.role.${access.kind === 'first-owner' ? 'owner' : access.user.role}`,
        ),
        minLength: PASSWORD_MIN_LENGTH,
        error: error ?? null,
      },
    })
  const refused = (c: Context, reason: Exclude<SetupAccess, { ok: true }>['reason']) =>
    adminMessage(deps, c, reason === 'invalid' ? 404 : 410, `admin.setup.${reason}`)

  // Set-up tokens carry 256 bits (ADMIN_SETUP_TOKEN at least 16 characters): limit guessing anyway.
  const setupLimited = async (c: Context) => {
    const r = await hitRateLimit(deps, {
      bucket: 'admin-setup',
      subject: deps.clientIp(c) ?? 'unknown',
      ...SETUP_LIMIT,
    })
    if (r.allowed) return null
    c.header('Retry-After', String(Math.ceil(r.retryAfterMs / 1000)))
    return adminMessage(deps, c, 429, 'admin.error.rateLimited')
  }
  app.get('/setup', async (c) => {
    const limited = await setupLimited(c)
    if (limited) return limited
    const token = c.req.query('token') ?? ''
    const access = await openSetup(deps, token, setupToken())
    if (!access.ok) return refused(c, access.reason)
    return setupForm(c, access, token)
  })
  app.post('/setup', async (c) => {
    const limited = await setupLimited(c)
    if (limited) return limited
    const token = await field(c, 'token')
    const access = await openSetup(deps, token, setupToken())
    if (!access.ok) return refused(c, access.reason)
    const locale = adminLocale(c)
    const email = (await field(c, 'email')).slice(0, 254)
    const r = await completeSetupPassword(
      deps,
      access,
      { email, password: await field(c, 'password'), confirm: await field(c, 'confirm'), locale },
      actorOf(deps, c),
    )
    if (!r.ok) {
      if (r.error === 'owner-exists' || r.error === 'link_used')
        return refused(c, r.error === 'link_used' ? 'used' : 'owner-exists')
      return setupForm(
        c,
        access,
        token,
        t(locale, `admin.password.${r.error}`, { min: PASSWORD_MIN_LENGTH }),
        email,
      )
    }
    const session = await sessionAfterSetup(deps, r.user, actorOf(deps, c))
    setSessionCookie(c, session.token)
    return c.redirect('/admin/enrol/totp', 303)
  })

  const enrolPage = async (c: Context, error?: string) => {
    const s = c.get('admin')!
    const enrolment = await pendingTotp(deps, s.user)
    return adminPage(deps, c, 'admin/enrol-totp', {
      titleKey: 'admin.enrol.title',
      status: error ? 400 : 200,
      data: {
        uri: enrolment.uri,
        secret: enrolment.secret.replace(/(.{4})/g, '$1 ').trim(),
        optional: !SECOND_FACTOR_REQUIRED.has(s.user.role),
        error: error ?? null,
      },
    })
  }
  // Enrolment is reached with a session whose second factor is not checked yet (it has none).
  // A pending session may enrol only when the account has no factor at all (else it must use it).
  const enrolling = async (s: LoadedSession) =>
    s.user.totp_enabled_at === null &&
    (!s.pending || (await listPasskeys(deps, s.user.id)).length === 0)
  guard(
    deps,
    app,
    'GET',
    '/enrol/totp',
    null,
    async (c, s) => ((await enrolling(s)) ? enrolPage(c) : c.redirect('/admin/account', 303)),
    { allowPending: true },
  )
  guard(
    deps,
    app,
    'GET',
    '/enrol/totp/qr.svg',
    null,
    async (c, s) => {
      if (!(await enrolling(s))) return c.notFound()
      const { uri } = await pendingTotp(deps, s.user)
      const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
      c.header('Content-Type', 'image/svg+xml')
      return c.body(svg)
    },
    { allowPending: true },
  )
  guard(
    deps,
    app,
    'POST',
    '/enrol/totp',
    null,
    async (c, s) => {
      if (!(await enrolling(s))) return c.redirect('/admin/account', 303)
      const r = await confirmTotp(
        deps,
        s.user,
        (await field(c, 'code')).slice(0, 20),
        s.session.id,
        actorOf(deps, c),
      )
      if (!r.ok) return enrolPage(c, t(adminLocale(c), 'admin.secondFactor.invalid'))
      return adminPage(deps, c, 'admin/recovery-codes', {
        titleKey: 'admin.recovery.title',
        data: { codes: r.recoveryCodes },
      })
    },
    { allowPending: true },
  )
  guard(
    deps,
    app,
    'POST',
    '/enrol/skip',
    null,
    async (c, s) => {
      // Only an account with no second factor at all, whose role does not need one, goes on without.
      if (SECOND_FACTOR_REQUIRED.has(s.user.role) || s.pending)
        return adminMessage(deps, c, 403, 'admin.error.forbidden')
      return c.redirect('/admin', 303)
    },
    { allowPending: true },
  )
}
