/**
 * @module What every admin page shares: the session from the `__Host-session` cookie, the CSRF token
 * of every form, the permission each route declares (src/domain/admin/permissions.ts), the step-up,
 * and the page envelope (navigation by role, who is signed in, the language switch).
 */
import type { Context, Hono, MiddlewareHandler } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Deps } from '../../deps.ts'
import { listPasskeys } from '../../domain/admin/passkeys.ts'
import { can, type Permission } from '../../domain/admin/permissions.ts'
import {
  checkCsrfToken,
  csrfTokenFor,
  isSteppedUp,
  loadSession,
  SESSION_ABSOLUTE_MS,
  SESSION_COOKIE,
  type LoadedSession,
} from '../../domain/admin/sessions.ts'
import { htmlBytes } from '../../lib/html-bytes.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { pageLocale, switchUrl } from '../../lib/pages.ts'
import { siteInfo } from '../../lib/site.ts'
import { renderPage } from '../../lib/views.ts'
import { adminEmail, type Actor } from '../../domain/admin/accounts.ts'
import { incidentBanner } from './compliance-banner.ts'

declare module 'hono' {
  interface ContextVariableMap {
    /** The signed-in staff member, set by `withSession`. */
    admin?: LoadedSession
  }
}

export interface RouteDeclaration {
  method: 'GET' | 'POST'
  path: string
  /** null: open to anyone (sign-in, set-up) or to any signed-in account (one's own account). */
  permission: Permission | null
  stepUp?: boolean
}

/** Every admin route with the permission it needs: what the role × route test walks. */
export const ADMIN_ROUTES: RouteDeclaration[] = []

export const sessionToken = (c: Context) => getCookie(c, SESSION_COOKIE)

export function setSessionCookie(c: Context, token: string) {
  // __Host-: Secure, Path=/, no Domain. Browsers accept Secure cookies from http://localhost too.
  setCookie(c, SESSION_COOKIE, token, {
    path: '/',
    secure: true,
    httpOnly: true,
    sameSite: 'Strict',
    maxAge: SESSION_ABSOLUTE_MS / 1000,
  })
}

export const clearSessionCookie = (c: Context) =>
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })

export const actorOf = (deps: Deps, c: Context): Actor => {
  const s = c.get('admin')
  return {
    actor: s ? `admin:${s.user.id}` : 'anonymous',
    ip: deps.clientIp(c) ?? null,
    userAgent: c.req.header('user-agent') ?? null,
  }
}

/** Loads the session (if any) for every admin request. */
export function withSession(deps: Deps): MiddlewareHandler {
  return async (c, next) => {
    const loaded = await loadSession(
      deps,
      sessionToken(c),
      async (id) => (await listPasskeys(deps, id)).length,
    )
    if (loaded) c.set('admin', loaded)
    await next()
  }
}

/** A form field from the (cached) parsed body. */
export async function field(c: Context, name: string): Promise<string> {
  const body = await c.req.parseBody()
  const v = body[name]
  return typeof v === 'string' ? v : ''
}

export function adminLocale(c: Context): Locale {
  return pageLocale(c, c.get('admin')?.user.locale)
}

interface NavItem {
  href: string
  label: string
  current: boolean
}

const NAV: { href: string; key: string; permission: Permission | null }[] = [
  { href: '/admin', key: 'admin.nav.dashboard', permission: 'dashboard.read' },
  { href: '/admin/contacts', key: 'admin.nav.contacts', permission: 'contacts.read' },
  { href: '/admin/requests', key: 'admin.nav.requests', permission: 'requests.manage' },
  { href: '/admin/purposes', key: 'admin.nav.purposes', permission: 'purposes.read' },
  { href: '/admin/forms', key: 'admin.nav.forms', permission: 'purposes.read' },
  { href: '/admin/integration', key: 'admin.nav.integration', permission: 'integration.read' },
  { href: '/admin/keys', key: 'admin.nav.keys', permission: 'keys.manage' },
  { href: '/admin/compliance', key: 'admin.nav.compliance', permission: 'compliance.read' },
  { href: '/admin/audit', key: 'admin.nav.audit', permission: 'audit.read' },
  { href: '/admin/operations', key: 'admin.nav.operations', permission: 'compliance.read' },
  { href: '/admin/users', key: 'admin.nav.users', permission: 'users.manage' },
  { href: '/admin/account', key: 'admin.nav.account', permission: null },
]

export interface AdminPageOptions {
  titleKey: string
  params?: Record<string, unknown>
  status?: ContentfulStatusCode
  data?: Record<string, unknown>
  /** The page loads /admin/assets/passkey.js: its CSP allows same-origin scripts. */
  script?: boolean
  /**
   * Content rendered beforehand by a template of views/ (so escaped like any output), put where
   * the view writes `<!--fragment-->`: a page whose content many requests share (the dashboard)
   * renders it once. Nothing from a request or a database ever writes `<!--` unescaped.
   */
  fragment?: Uint8Array
}

const FRAGMENT = '<!--fragment-->'

/** The signed-in account's address, decrypted once per process (it is on every page). */
const addresses = new Map<string, string>()
async function signedInAddress(deps: Deps, user: LoadedSession['user']) {
  const key = `${user.id}\u0000${user.email_enc}`
  let email = addresses.get(key)
  if (email === undefined) {
    email = await adminEmail(deps, user)
    if (addresses.size >= 1_000) addresses.clear()
    addresses.set(key, email)
  }
  return email
}

/** Renders views/admin/<view>.hbs in the admin layout. */
export async function adminPage(deps: Deps, c: Context, view: string, opts: AdminPageOptions) {
  const locale = adminLocale(c)
  const other: Locale = locale === 'fr' ? 'en' : 'fr'
  const s = c.get('admin')
  const signedIn = s && !s.pending ? s : undefined
  const path = c.req.path
  const admin = s
    ? {
        email: await signedInAddress(deps, s.user),
        roleLabel: t(locale, `admin.role.${s.user.role}`),
        csrf: await csrfTokenFor(deps, s.session.id),
        nav: signedIn
          ? NAV.filter((n) => n.permission === null || can(s.user.role, n.permission)).map(
              (n): NavItem => ({
                href: n.href,
                label: t(locale, n.key),
                current:
                  n.href === '/admin'
                    ? path === '/admin' || path === '/admin/'
                    : path.startsWith(n.href),
              }),
            )
          : [],
        // Every screen shows open breaches and their 72-hour clock to those who may read the register.
        incidents:
          signedIn && can(s.user.role, 'compliance.read')
            ? await incidentBanner(deps, locale)
            : null,
      }
    : null
  if (opts.script)
    c.header(
      'Content-Security-Policy',
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    )
  const html = renderPage(view, {
    locale,
    title: t(locale, opts.titleKey, opts.params),
    site: siteInfo(deps.config),
    switchLocale: other,
    switchUrl: switchUrl(c, other),
    csrfToken: admin?.csrf,
    data: { admin, script: opts.script ?? false, ...opts.data },
  })
  if (opts.fragment !== undefined) {
    // As bytes (src/lib/html-bytes.ts): the shared content is copied, not transcoded, per request.
    const at = html.indexOf(FRAGMENT)
    const parts = [html.slice(0, at), opts.fragment, html.slice(at + FRAGMENT.length)]
    return htmlBytes(c, parts, opts.status ?? 200)
  }
  return c.html(html, opts.status ?? 200)
}

/** A message in the admin layout (refusals, expired links). */
export const adminMessage = (
  deps: Deps,
  c: Context,
  status: ContentfulStatusCode,
  key: string,
  params?: Record<string, unknown>,
) =>
  adminPage(deps, c, 'admin/message', {
    titleKey: `${key}.title`,
    status,
    params,
    data: { body: t(adminLocale(c), `${key}.body`, params) },
  })

/**
 * Registers a route with the permission it needs. Without a session: the sign-in form (GET) or 401;
 * a second factor still due: there first; a role without the permission: 403; a POST without the
 * session's CSRF token: 403; `stepUp`: a fresh second-factor check first.
 */
export function guard(
  deps: Deps,
  app: Hono,
  method: 'GET' | 'POST',
  path: string,
  permission: Permission | null,
  handler: (c: Context, s: LoadedSession) => Response | Promise<Response>,
  opts: { stepUp?: boolean; allowPending?: boolean; back?: string | ((c: Context) => string) } = {},
) {
  const declared = `/admin${path === '/' ? '' : path}`
  if (!ADMIN_ROUTES.some((r) => r.method === method && r.path === declared))
    ADMIN_ROUTES.push({ method, path: declared, permission, stepUp: opts.stepUp })
  const run = async (c: Context) => {
    const s = c.get('admin')
    if (!s) {
      if (method === 'GET')
        return c.redirect(`/admin/sign-in?next=${encodeURIComponent(c.req.path)}`, 303)
      return adminMessage(deps, c, 401, 'admin.error.signedOut')
    }
    if (method === 'POST' && !(await checkCsrfToken(deps, s.session.id, await field(c, '_csrf'))))
      return adminMessage(deps, c, 403, 'admin.error.csrf')
    if (s.pending && !opts.allowPending) return c.redirect('/admin/sign-in/second-factor', 303)
    if (permission && !can(s.user.role, permission))
      return adminMessage(deps, c, 403, 'admin.error.forbidden')
    if (opts.stepUp && !isSteppedUp(s.session, deps.clock.now())) {
      const back = typeof opts.back === 'function' ? opts.back(c) : opts.back
      const next = method === 'GET' ? c.req.path : (back ?? '/admin')
      return c.redirect(`/admin/step-up?next=${encodeURIComponent(next)}`, 303)
    }
    return handler(c, s)
  }
  if (method === 'GET') app.get(path, run)
  else app.post(path, run)
}

/** Only same-site relative paths under /admin: never an open redirect. */
export const safeNext = (next: string | undefined) =>
  next && /^\/admin(\/[A-Za-z0-9/_.-]*)?$/.test(next) ? next : '/admin'
