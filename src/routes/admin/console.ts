/**
 * @module The console's screens of its first part: one's own account (sessions with "sign out
 * everywhere", passkeys, recovery codes), staff users (invite, roles, disable, lift a lock-out: owners,
 * after a fresh second factor), and the audit log (browse, filter, verify, export as CSV or JSON). The
 * dashboard, contacts, requests, purposes, forms and integration are screens of their own files.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  changeRole,
  createAccount,
  liftLockout,
  listAdminUsers,
  setDisabled,
} from '../../domain/admin/accounts.ts'
import {
  auditCsv,
  auditJson,
  listAudit,
  recordAudit,
  type AuditFilter,
} from '../../domain/admin/audit.ts'
import {
  listPasskeys,
  registerPasskey,
  registrationOptions,
  removePasskey,
} from '../../domain/admin/passkeys.ts'
import { ROLES, isRole } from '../../domain/admin/permissions.ts'
import { recoveryCodesLeft, regenerateRecoveryCodes } from '../../domain/admin/second-factor.ts'
import {
  listSessions,
  revokeAllSessionsQuery,
  revokeSessionQ,
} from '../../domain/admin/sessions.ts'
import { verifyEverything } from '../../domain/admin/verify.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, adminPage, field, guard } from './context.ts'

const time = (ms: number | null, locale: Locale) =>
  ms === null
    ? '—'
    : new Date(ms).toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC' }) + ' UTC'

export function consoleRoutes(deps: Deps, app: Hono) {
  // One's own account
  const accountPage = async (c: Context, extra: Record<string, unknown> = {}) => {
    const s = c.get('admin')!
    const locale = adminLocale(c)
    const sessions = (await listSessions(deps, s.user.id)).map((x) => ({
      id: x.id,
      current: x.id === s.session.id,
      created: time(x.created_at, locale),
      lastSeen: time(x.last_seen_at, locale),
      ip: x.ip ?? '—',
      userAgent: x.user_agent ?? '—',
    }))
    const passkeys = (await listPasskeys(deps, s.user.id)).map((p) => ({
      id: p.id,
      name: p.name,
      created: time(p.created_at, locale),
      lastUsed: time(p.last_used_at, locale),
    }))
    const options = await registrationOptions(deps, s.user)
    return adminPage(deps, c, 'admin/account', {
      titleKey: 'admin.account.title',
      script: true,
      data: {
        sessions,
        passkeys,
        totp: s.user.totp_enabled_at !== null,
        recoveryLeft: await recoveryCodesLeft(deps, s.user.id),
        registration: JSON.stringify(options),
        notice: null,
        error: null,
        ...extra,
      },
    })
  }
  guard(deps, app, 'GET', '/account', null, (c) => accountPage(c))
  guard(deps, app, 'POST', '/account/sessions/revoke', null, async (c, s) => {
    const id = await field(c, 'session')
    const mine = (await listSessions(deps, s.user.id)).find((x) => x.id === id)
    if (mine)
      await recordAudit(
        deps,
        { ...actorOf(deps, c), action: 'session.revoke', target: `user:${s.user.id}` },
        [revokeSessionQ(deps, id)],
      )
    return c.redirect('/admin/account', 303)
  })
  guard(deps, app, 'POST', '/account/sessions/revoke-all', null, async (c, s) => {
    await recordAudit(
      deps,
      { ...actorOf(deps, c), action: 'session.revoke_all', target: `user:${s.user.id}` },
      [revokeAllSessionsQuery(deps, s.user.id, s.session.id)],
    )
    return accountPage(c, { notice: t(adminLocale(c), 'admin.account.signedOutEverywhere') })
  })
  guard(deps, app, 'POST', '/account/passkeys', null, async (c, s) => {
    let response: unknown = null
    try {
      response = JSON.parse((await field(c, 'credential')).slice(0, 20_000))
    } catch {
      response = null
    }
    const ok =
      response !== null &&
      (await registerPasskey(deps, s.user, response, await field(c, 'name'), actorOf(deps, c)))
    const locale = adminLocale(c)
    return ok
      ? accountPage(c, { notice: t(locale, 'admin.passkey.added') })
      : accountPage(c, { error: t(locale, 'admin.passkey.failed') })
  })
  guard(
    deps,
    app,
    'POST',
    '/account/passkeys/delete',
    null,
    async (c, s) => {
      await removePasskey(deps, s.user, await field(c, 'passkey'), actorOf(deps, c))
      return c.redirect('/admin/account', 303)
    },
    { stepUp: true, back: '/admin/account' },
  )
  guard(
    deps,
    app,
    'POST',
    '/account/recovery-codes',
    null,
    async (c, s) => {
      const codes = await regenerateRecoveryCodes(deps, s.user, actorOf(deps, c))
      return adminPage(deps, c, 'admin/recovery-codes', {
        titleKey: 'admin.recovery.title',
        data: { codes },
      })
    },
    { stepUp: true, back: '/admin/account' },
  )

  // Staff users (owners)
  const usersPage = async (
    c: Context,
    extra: { notice?: string; error?: string; link?: string } = {},
    status: 200 | 400 = 200,
  ) => {
    const locale = adminLocale(c)
    const me = c.get('admin')!.user.id
    const users = (await listAdminUsers(deps)).map((u) => ({
      ...u,
      me: u.id === me,
      roleLabel: t(locale, `admin.role.${u.role}`),
      statusLabel: t(locale, `admin.users.status.${u.status}`),
      lastSignIn: time(u.lastSignInAt, locale),
      factors:
        [
          u.secondFactor.totp ? 'TOTP' : null,
          u.secondFactor.passkeys ? `passkey × ${u.secondFactor.passkeys}` : null,
        ]
          .filter(Boolean)
          .join(', ') || '—',
      roles: ROLES.map((r) => ({
        value: r,
        label: t(locale, `admin.role.${r}`),
        selected: r === u.role,
      })),
    }))
    return adminPage(deps, c, 'admin/users', {
      titleKey: 'admin.users.title',
      status,
      data: {
        users,
        roles: ROLES.map((r) => ({
          value: r,
          label: t(locale, `admin.role.${r}`),
          selected: r === 'marketer',
        })),
        notice: extra.notice ?? null,
        error: extra.error ?? null,
      },
    })
  }
  const userError = (c: Context, error: string) =>
    usersPage(c, { error: t(adminLocale(c), `admin.users.error.${error}`) }, 400)
  const opts = { stepUp: true, back: '/admin/users' }
  guard(deps, app, 'GET', '/users', 'users.manage', (c) => usersPage(c), { stepUp: true })
  guard(
    deps,
    app,
    'POST',
    '/users/invite',
    'users.manage',
    async (c) => {
      const role = await field(c, 'role')
      const locale = (await field(c, 'locale')) === 'en' ? 'en' : 'fr'
      const r = await createAccount(
        deps,
        { email: await field(c, 'email'), role, locale, mail: true },
        actorOf(deps, c),
      )
      if (!r.ok) return userError(c, r.error)
      c.set('outboxPending', true)
      return usersPage(c, { notice: t(adminLocale(c), 'admin.users.invited') })
    },
    opts,
  )
  guard(
    deps,
    app,
    'POST',
    '/users/:id/role',
    'users.manage',
    async (c, s) => {
      const role = await field(c, 'role')
      if (!isRole(role)) return userError(c, 'invalid_role')
      const r = await changeRole(deps, c.req.param('id') ?? '', role, {
        ...actorOf(deps, c),
        userId: s.user.id,
      })
      return r.ok
        ? usersPage(c, { notice: t(adminLocale(c), 'admin.users.saved') })
        : userError(c, r.error)
    },
    opts,
  )
  for (const [path, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const)
    guard(
      deps,
      app,
      'POST',
      `/users/:id/${path}`,
      'users.manage',
      async (c, s) => {
        const r = await setDisabled(deps, c.req.param('id') ?? '', disabled, {
          ...actorOf(deps, c),
          userId: s.user.id,
        })
        return r.ok
          ? usersPage(c, { notice: t(adminLocale(c), 'admin.users.saved') })
          : userError(c, r.error)
      },
      opts,
    )
  guard(
    deps,
    app,
    'POST',
    '/users/:id/unlock',
    'users.manage',
    async (c) => {
      const r = await liftLockout(deps, c.req.param('id') ?? '', actorOf(deps, c))
      return r.ok
        ? usersPage(c, { notice: t(adminLocale(c), 'admin.users.unlocked') })
        : userError(c, r.error)
    },
    opts,
  )

  // The audit log
  const filterOf = (c: Context): AuditFilter => {
    const q = (k: string) => c.req.query(k)?.trim() || undefined
    const date = (v?: string) =>
      v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : undefined
    const outcome = q('outcome')
    const before = Number(q('before'))
    const to = date(q('to'))
    return {
      actor: q('actor')?.slice(0, 200),
      action: q('action')?.slice(0, 100),
      outcome:
        outcome === 'ok' || outcome === 'denied' || outcome === 'failed' ? outcome : undefined,
      from: date(q('from')),
      to: to === undefined ? undefined : to + 86_400_000,
      beforeSeq: Number.isInteger(before) && before > 0 ? before : undefined,
      limit: 50,
    }
  }
  const auditPage = async (c: Context, verification: Record<string, unknown> | null = null) => {
    const locale = adminLocale(c)
    const filter = filterOf(c)
    const rows = await listAudit(deps, filter)
    const query = new URLSearchParams(
      Object.entries({
        actor: filter.actor,
        action: filter.action,
        outcome: filter.outcome,
        from: c.req.query('from'),
        to: c.req.query('to'),
      }).filter((e): e is [string, string] => !!e[1]),
    )
    const last = rows.at(-1)
    const more =
      last && rows.length === filter.limit
        ? `?${new URLSearchParams({ ...Object.fromEntries(query), before: String(last.seq) })}`
        : null
    return adminPage(deps, c, 'admin/audit', {
      titleKey: 'admin.audit.title',
      data: {
        rows: rows.map((r) => ({
          ...r,
          when: time(r.at, locale),
          outcomeLabel: t(locale, `admin.audit.outcome.${r.outcome}`),
        })),
        filter: {
          actor: filter.actor ?? '',
          action: filter.action ?? '',
          outcome: filter.outcome ?? '',
          from: c.req.query('from') ?? '',
          to: c.req.query('to') ?? '',
        },
        outcomes: ['ok', 'denied', 'failed'].map((o) => ({
          value: o,
          label: t(locale, `admin.audit.outcome.${o}`),
          selected: o === filter.outcome,
        })),
        exportQuery: query.toString() ? `?${query}` : '',
        more,
        verification,
      },
    })
  }
  guard(deps, app, 'GET', '/audit', 'audit.read', (c) => auditPage(c))
  guard(deps, app, 'POST', '/audit/verify', 'ledger.verify', async (c) => {
    const report = await verifyEverything(deps)
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'ledger.verify',
      outcome: report.ok ? 'ok' : 'failed',
      details: { problems: report.ledger.problems.length + report.audit.problems.length },
    })
    return auditPage(c, {
      ok: report.ok,
      summary: t(adminLocale(c), 'admin.audit.verified', {
        chains: report.ledger.chains,
        events: report.ledger.events,
        checkpoints: report.ledger.checkpoints,
        entries: report.audit.entries,
      }),
      problems: [...report.ledger.problems, ...report.audit.problems],
    })
  })
  for (const format of ['csv', 'json'] as const)
    guard(deps, app, 'GET', `/audit/export.${format}`, 'audit.read', async (c) => {
      const rows = await listAudit(deps, { ...filterOf(c), beforeSeq: undefined, limit: 10_000 })
      await recordAudit(deps, {
        ...actorOf(deps, c),
        action: 'audit.export',
        details: { format, rows: rows.length },
      })
      c.header('Content-Disposition', `attachment; filename="audit-log.${format}"`)
      if (format === 'csv') {
        c.header('Content-Type', 'text/csv; charset=utf-8')
        return c.body(auditCsv(rows.reverse()))
      }
      return c.json(auditJson(rows.reverse()))
    })

  return { notFound: (c: Context) => adminMessage(deps, c, 404, 'admin.error.notFound') }
}
