/**
 * @module Staff accounts: the first owner's set-up, invitations (an account with a one-time link that
 * sets its password and second factor), roles, disabling, lifting a lock-out. Addresses are stored
 * encrypted with a blind index for the sign-in look-up, as contacts' are. One-time links carry 256
 * random bits; only their SHA-256 is stored, they expire, and they work once. Every change is written
 * with its audit entry in one atomic unit.
 */
import type { CompiledQuery } from 'kysely'
import {
  closeUserSetupLinksQuery,
  findSetupLinkByHash,
  insertSetupLinkQuery,
  revokeUserSessionsQuery,
  claimSetupLink,
  type SetupLinkRow,
} from '../../db/repositories/admin-sessions.ts'
import {
  countActiveOwners,
  findAdminUserByBlindIndexes,
  findAdminUserById,
  insertAdminUserQuery,
  listAdminUserRows,
  listPasskeyRows,
  updateAdminUserQuery,
  type AdminUserRow,
} from '../../db/repositories/admin-users.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes, blindIndexWith, normalizeEmail } from '../../lib/email.ts'
import { timingSafeEqual, toBase64Url, utf8 } from '../../lib/encoding.ts'
import type { Locale } from '../../lib/i18n.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { randomBytes } from '../../lib/random.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { recordAudit, type AuditEntry } from './audit.ts'
import { hashPassword, passwordProblem, type PasswordProblem } from './passwords.ts'
import { isRole, SECOND_FACTOR_REQUIRED, type Role } from './permissions.ts'
import { clearAccountThrottleQuery, lockedAccounts } from './throttle.ts'

export const SETUP_LINK_TTL_MS = 24 * 60 * 60_000
export const INVITE_LINK_TTL_MS = 72 * 60 * 60_000

export type { AdminUserRow }

/** Who did it and from where, for the audit entry. */
export interface Actor {
  actor: string
  ip?: string | null
  userAgent?: string | null
}

const emailAad = (id: string) => `admin_users.email:${id}`
export const totpAad = (id: string) => `admin_users.totp:${id}`

export const adminEmail = (deps: Pick<Deps, 'keys'>, user: AdminUserRow) =>
  decryptField(deps.keys, user.email_enc, emailAad(user.id))

export async function findAdminByEmail(
  deps: Pick<Deps, 'db' | 'hmac' | 'keys'>,
  normalized: string,
): Promise<AdminUserRow | undefined> {
  return findAdminUserByBlindIndexes(deps.db, await blindIndexes(deps.hmac, deps.keys, normalized))
}

export const findAdmin = (deps: Pick<Deps, 'queryOne'>, id: string) => findAdminUserById(deps, id)

/** True once an active owner exists: the set-up link and ADMIN_SETUP_TOKEN stop working then. */
export const hasOwner = async (deps: Pick<Deps, 'db'>) => (await countActiveOwners(deps.db)) > 0

export const setupUrl = (deps: Pick<Deps, 'config'>, token: string) =>
  `${deps.config.publicUrl}/admin/setup?token=${token}`

const tokenHash = async (deps: Pick<Deps, 'sha256'>, token: string) =>
  toBase64Url(await deps.sha256(utf8(`setup-link:${token}`)))

/** A one-time link for `userId` (the account exists, invited). */
async function newLink(
  deps: Pick<Deps, 'db' | 'clock' | 'sha256'>,
  userId: string | null,
  kind: SetupLinkRow['kind'],
  createdBy: string,
) {
  const token = toBase64Url(randomBytes(32))
  const now = deps.clock.now()
  const row: SetupLinkRow = {
    id: uuidv7(now),
    token_hash: await tokenHash(deps, token),
    admin_user_id: userId,
    kind,
    created_by: createdBy,
    created_at: now,
    expires_at: now + (kind === 'setup' ? SETUP_LINK_TTL_MS : INVITE_LINK_TTL_MS),
    used_at: null,
  }
  return { token, row, query: insertSetupLinkQuery(deps.db, row) }
}

export type CreateAccountResult =
  | { ok: true; user: AdminUserRow; url: string; linkId: string }
  | { ok: false; error: 'invalid_email' | 'invalid_role' | 'exists' }

/**
 * Creates an invited account with a one-time set-up link (or, for an account still invited, replaces
 * its link). `invite` also queues the invitation mail; `create-admin` prints the link instead.
 */
export async function createAccount(
  deps: Deps,
  input: { email: string; role: string; locale?: Locale; mail: boolean },
  by: Actor,
): Promise<CreateAccountResult> {
  const email = normalizeEmail(input.email)
  if (!email) return { ok: false, error: 'invalid_email' }
  if (!isRole(input.role)) return { ok: false, error: 'invalid_role' }
  const now = deps.clock.now()
  const existing = await findAdminByEmail(deps, email)
  if (existing && existing.status !== 'invited') return { ok: false, error: 'exists' }
  const queries: CompiledQuery[] = []
  let user: AdminUserRow
  if (existing) {
    user = { ...existing, role: input.role, updated_at: now }
    queries.push(updateAdminUserQuery(deps.db, user.id, { role: input.role, updated_at: now }))
    queries.push(closeUserSetupLinksQuery(deps.db, user.id, now))
  } else {
    const id = uuidv7(now)
    user = {
      id,
      email_enc: await encryptField(deps.keys, email, emailAad(id)),
      email_bidx: await blindIndexWith(deps.hmac, deps.keys.current, email),
      bidx_kid: deps.keys.current.kid,
      role: input.role,
      status: 'invited',
      locale: input.locale ?? 'fr',
      password_alg: null,
      password_iterations: null,
      password_salt: null,
      password_hash: null,
      totp_secret_enc: null,
      totp_enabled_at: null,
      totp_last_step: null,
      created_at: now,
      updated_at: now,
      last_sign_in_at: null,
      disabled_at: null,
    }
    queries.push(insertAdminUserQuery(deps.db, user))
  }
  const link = await newLink(deps, user.id, input.mail ? 'invite' : 'setup', by.actor)
  queries.push(link.query)
  if (input.mail)
    queries.push(
      enqueueQuery(deps.db, now, {
        kind: 'mail.admin_invite',
        payload: {
          userId: user.id,
          linkId: link.row.id,
          tokenEnc: await encryptField(deps.keys, link.token, `setup_links.token:${link.row.id}`),
        },
      }),
    )
  await recordAudit(
    deps,
    {
      ...auditFrom(by),
      action: input.mail ? 'user.invite' : 'user.create',
      target: `user:${user.id}`,
      details: { role: input.role, reinvited: existing !== undefined },
    },
    queries,
  )
  return { ok: true, user, url: setupUrl(deps, link.token), linkId: link.row.id }
}

/** The token an invitation mail carries, from its outbox payload. */
export const openInviteToken = (deps: Pick<Deps, 'keys'>, linkId: string, tokenEnc: string) =>
  decryptField(deps.keys, tokenEnc, `setup_links.token:${linkId}`)

const auditFrom = (by: Actor): Omit<AuditEntry, 'action'> => ({
  actor: by.actor,
  ip: by.ip,
  userAgent: by.userAgent,
})

export type SetupAccess =
  | { ok: true; kind: 'link'; link: SetupLinkRow; user: AdminUserRow }
  | { ok: true; kind: 'first-owner'; link?: SetupLinkRow }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' | 'owner-exists' }

/**
 * What a set-up token opens: a one-time link (an invited account), or ADMIN_SETUP_TOKEN on a
 * deployment where no owner exists yet (the first owner types their address).
 */
export async function openSetup(
  deps: Pick<Deps, 'db' | 'queryOne' | 'clock' | 'sha256' | 'config'>,
  token: string | undefined,
  setupToken: string | undefined,
): Promise<SetupAccess> {
  if (!token || token.length > 200) return { ok: false, reason: 'invalid' }
  if (setupToken && setupToken.length >= 16 && timingSafeEqual(utf8(token), utf8(setupToken)))
    return (await hasOwner(deps))
      ? { ok: false, reason: 'owner-exists' }
      : { ok: true, kind: 'first-owner' }
  const link = await findSetupLinkByHash(deps.db, await tokenHash(deps, token))
  if (!link) return { ok: false, reason: 'invalid' }
  if (link.used_at !== null) return { ok: false, reason: 'used' }
  if (link.expires_at <= deps.clock.now()) return { ok: false, reason: 'expired' }
  if (link.admin_user_id === null)
    return (await hasOwner(deps))
      ? { ok: false, reason: 'owner-exists' }
      : { ok: true, kind: 'first-owner', link }
  const user = await findAdminUserById(deps, link.admin_user_id)
  if (!user || user.status !== 'invited') return { ok: false, reason: 'used' }
  return { ok: true, kind: 'link', link, user }
}

export type SetPasswordResult =
  | { ok: true; user: AdminUserRow }
  | {
      ok: false
      error: PasswordProblem | 'mismatch' | 'invalid_email' | 'link_used' | 'owner-exists'
    }

/**
 * Completes the first step of a set-up: the password (and, for ADMIN_SETUP_TOKEN, the account itself,
 * an owner). The link is closed in the same unit, so it works once even when two requests race.
 * Returns the account, active from now on; the caller opens a session for the next steps.
 */
export async function completeSetupPassword(
  deps: Deps,
  access: Extract<SetupAccess, { ok: true }>,
  input: { email?: string; password: string; confirm: string; locale: Locale },
  by: Actor,
): Promise<SetPasswordResult> {
  const now = deps.clock.now()
  let user: AdminUserRow
  const queries: CompiledQuery[] = []
  if (access.kind === 'first-owner') {
    const email = normalizeEmail(input.email ?? '')
    if (!email) return { ok: false, error: 'invalid_email' }
    if (await hasOwner(deps)) return { ok: false, error: 'owner-exists' }
    const problem = await checkNewPassword(deps, input, email)
    if (problem) return { ok: false, error: problem }
    const existing = await findAdminByEmail(deps, email)
    if (existing) {
      user = { ...existing, role: 'owner' }
      queries.push(updateAdminUserQuery(deps.db, user.id, { role: 'owner' }))
    } else {
      const created = await createAccountRow(deps, email, 'owner', input.locale)
      user = created.user
      queries.push(created.query)
    }
  } else {
    user = access.user
    const problem = await checkNewPassword(deps, input, await adminEmail(deps, user))
    if (problem) return { ok: false, error: problem }
  }
  const stored = await hashPassword(input.password, deps.pbkdf2Iterations)
  // The link is claimed on its own first: of two requests racing with it, one only goes on.
  if (access.link && !(await claimSetupLink(deps.db, access.link.id, now)))
    return { ok: false, error: 'link_used' }
  const set = {
    status: 'active' as const,
    locale: input.locale,
    password_alg: stored.alg,
    password_iterations: stored.iterations,
    password_salt: stored.salt,
    password_hash: stored.hash,
    updated_at: now,
  }
  queries.push(updateAdminUserQuery(deps.db, user.id, set))
  await recordAudit(
    deps,
    {
      ...auditFrom(by),
      actor: `admin:${user.id}`,
      action: 'user.setup',
      target: `user:${user.id}`,
      details: { role: user.role, via: access.kind },
    },
    queries,
  )
  return { ok: true, user: { ...user, ...set } }
}

async function checkNewPassword(
  deps: Pick<Deps, 'config'>,
  input: { password: string; confirm: string },
  email: string,
): Promise<PasswordProblem | 'mismatch' | null> {
  if (input.password !== input.confirm) return 'mismatch'
  return passwordProblem(input.password, [
    email,
    deps.config.org.name,
    'consent',
    'gateway',
    'admin',
  ])
}

async function createAccountRow(deps: Deps, email: string, role: Role, locale: Locale) {
  const now = deps.clock.now()
  const id = uuidv7(now)
  const user: AdminUserRow = {
    id,
    email_enc: await encryptField(deps.keys, email, emailAad(id)),
    email_bidx: await blindIndexWith(deps.hmac, deps.keys.current, email),
    bidx_kid: deps.keys.current.kid,
    role,
    status: 'invited',
    locale,
    password_alg: null,
    password_iterations: null,
    password_salt: null,
    password_hash: null,
    totp_secret_enc: null,
    totp_enabled_at: null,
    totp_last_step: null,
    created_at: now,
    updated_at: now,
    last_sign_in_at: null,
    disabled_at: null,
  }
  return { user, query: insertAdminUserQuery(deps.db, user) }
}

/**
 * The first owner's one-time link, what `npm start` prints while no owner exists: the page asks for
 * the owner's address. Null once an owner exists.
 */
export async function firstOwnerLink(deps: Deps, by: Actor): Promise<string | null> {
  if (await hasOwner(deps)) return null
  const link = await newLink(deps, null, 'setup', by.actor)
  await recordAudit(deps, { ...auditFrom(by), action: 'setup.link', target: null }, [link.query])
  return setupUrl(deps, link.token)
}

export interface AdminUserView {
  id: string
  email: string
  role: Role
  status: AdminUserRow['status']
  locked: boolean
  secondFactor: { totp: boolean; passkeys: number }
  createdAt: number
  lastSignInAt: number | null
}

export async function listAdminUsers(deps: Pick<Deps, 'db' | 'keys'>): Promise<AdminUserView[]> {
  const rows = await listAdminUserRows(deps.db)
  const locked = await lockedAccounts(
    deps,
    rows.map((r) => r.email_bidx),
  )
  return Promise.all(
    rows.map(async (r) => ({
      id: r.id,
      email: await adminEmail(deps, r),
      role: r.role,
      status: r.status,
      locked: locked.has(r.email_bidx),
      secondFactor: {
        totp: r.totp_enabled_at !== null,
        passkeys: (await listPasskeyRows(deps.db, r.id)).length,
      },
      createdAt: r.created_at,
      lastSignInAt: r.last_sign_in_at,
    })),
  )
}

export type UserChangeError = 'not_found' | 'invalid_role' | 'last_owner' | 'self'

/** Changes a role. The last active owner cannot be demoted; nobody changes their own role. */
export async function changeRole(
  deps: Deps,
  userId: string,
  role: string,
  by: Actor & { userId?: string },
): Promise<{ ok: true } | { ok: false; error: UserChangeError }> {
  if (!isRole(role)) return { ok: false, error: 'invalid_role' }
  const user = await findAdminUserById(deps, userId)
  if (!user) return { ok: false, error: 'not_found' }
  if (by.userId === userId) return { ok: false, error: 'self' }
  if (
    user.role === 'owner' &&
    role !== 'owner' &&
    user.status === 'active' &&
    (await countActiveOwners(deps.db)) <= 1
  )
    return { ok: false, error: 'last_owner' }
  const now = deps.clock.now()
  const queries = [updateAdminUserQuery(deps.db, userId, { role, updated_at: now })]
  // A role that now needs a second factor: sessions without one end (they are asked to enrol).
  if (SECOND_FACTOR_REQUIRED.has(role) && user.totp_enabled_at === null)
    queries.push(revokeUserSessionsQuery(deps.db, userId, now))
  await recordAudit(
    deps,
    {
      ...auditFrom(by),
      action: 'user.role',
      target: `user:${userId}`,
      details: { from: user.role, to: role },
    },
    queries,
  )
  return { ok: true }
}

/** Disables (every session ends at once) or re-enables an account. */
export async function setDisabled(
  deps: Deps,
  userId: string,
  disabled: boolean,
  by: Actor & { userId?: string },
): Promise<{ ok: true } | { ok: false; error: UserChangeError }> {
  const user = await findAdminUserById(deps, userId)
  if (!user) return { ok: false, error: 'not_found' }
  if (by.userId === userId) return { ok: false, error: 'self' }
  if (
    disabled &&
    user.role === 'owner' &&
    user.status === 'active' &&
    (await countActiveOwners(deps.db)) <= 1
  )
    return { ok: false, error: 'last_owner' }
  const now = deps.clock.now()
  const status = disabled ? 'disabled' : user.password_hash ? 'active' : 'invited'
  const queries = [
    updateAdminUserQuery(deps.db, userId, {
      status,
      disabled_at: disabled ? now : null,
      updated_at: now,
    }),
  ]
  if (disabled) queries.push(revokeUserSessionsQuery(deps.db, userId, now))
  await recordAudit(
    deps,
    {
      ...auditFrom(by),
      action: disabled ? 'user.disable' : 'user.enable',
      target: `user:${userId}`,
    },
    queries,
  )
  return { ok: true }
}

/** Lifts a lock-out (and forgets the failures that led to it). */
export async function liftLockout(
  deps: Deps,
  userId: string,
  by: Actor,
): Promise<{ ok: true } | { ok: false; error: UserChangeError }> {
  const user = await findAdminUserById(deps, userId)
  if (!user) return { ok: false, error: 'not_found' }
  await recordAudit(deps, { ...auditFrom(by), action: 'user.unlock', target: `user:${userId}` }, [
    clearAccountThrottleQuery(deps, user.email_bidx),
  ])
  return { ok: true }
}
