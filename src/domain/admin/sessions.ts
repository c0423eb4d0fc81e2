/**
 * @module Staff sessions (OWASP Session Management Cheat Sheet): a 256-bit random token in the
 * `__Host-session` cookie, only its SHA-256 stored; 30 minutes idle and 12 hours absolute; a list of
 * one's sessions and "sign out everywhere"; a per-session CSRF token derived from the session (HMAC
 * under the link-signing key), so that nothing more is stored; and the step-up: a fresh second-factor
 * check within STEP_UP_MS before erasure, personal-data exports, key creation and user management.
 */
import type { CompiledQuery } from 'kysely'
import {
  deleteSessionsBefore,
  findSession,
  insertSessionQuery,
  listSessionRows,
  markSessionSecondFactorQuery,
  markSessionStepUpQuery,
  revokeSessionQuery,
  revokeUserSessionsQuery,
  touchSessionQuery,
  type SessionRow,
} from '../../db/repositories/admin-sessions.ts'
import {
  findAdminUserById,
  purgeChallenges,
  type AdminUserRow,
} from '../../db/repositories/admin-users.ts'
import type { Deps } from '../../deps.ts'
import { timingSafeEqual, toBase64Url, utf8 } from '../../lib/encoding.ts'
import { randomBytes } from '../../lib/random.ts'
import { SECOND_FACTOR_REQUIRED, type Role } from './permissions.ts'

export const SESSION_COOKIE = '__Host-session'
export const SESSION_IDLE_MS = 30 * 60_000
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000
export const STEP_UP_MS = 5 * 60_000
/** last_seen_at is written at most this often (a write per page view would cost a query each). */
const TOUCH_RESOLUTION_MS = 60_000

export type { SessionRow }

export async function sessionIdOf(deps: Pick<Deps, 'sha256'>, token: string): Promise<string> {
  return toBase64Url(await deps.sha256(utf8(token)))
}

export interface NewSession {
  token: string
  id: string
  query: CompiledQuery
}

/** A new session for `userId`; `secondFactor` when the sign-in already checked one. Not yet written. */
export async function newSession(
  deps: Pick<Deps, 'db' | 'clock' | 'sha256'>,
  userId: string,
  opts: { ip?: string; userAgent?: string; secondFactor: boolean },
): Promise<NewSession> {
  const token = toBase64Url(randomBytes(32))
  const id = await sessionIdOf(deps, token)
  const now = deps.clock.now()
  const query = insertSessionQuery(deps.db, {
    id,
    admin_user_id: userId,
    created_at: now,
    last_seen_at: now,
    second_factor_at: opts.secondFactor ? now : null,
    step_up_at: opts.secondFactor ? now : null,
    ip: opts.ip?.slice(0, 100) ?? null,
    user_agent: opts.userAgent?.slice(0, 300) ?? null,
    revoked_at: null,
  })
  return { token, id, query }
}

export const hasSecondFactor = (user: AdminUserRow, passkeyCount: number) =>
  user.totp_enabled_at !== null || passkeyCount > 0

export interface LoadedSession {
  session: SessionRow
  user: AdminUserRow & { role: Role }
  /** The password is checked but the second factor is still due (or must be enrolled first). */
  pending: boolean
}

export type SessionExpiry = 'none' | 'idle' | 'absolute' | 'revoked' | 'account'

/** Why a session can no longer be used at `now`, or 'none'. */
export function sessionExpiry(session: SessionRow, now: number): SessionExpiry {
  if (session.revoked_at !== null) return 'revoked'
  if (now - session.created_at >= SESSION_ABSOLUTE_MS) return 'absolute'
  if (now - session.last_seen_at >= SESSION_IDLE_MS) return 'idle'
  return 'none'
}

/**
 * The session behind a cookie token, if it is live and its account active; refreshes its idle timer.
 * `pending` is true until a second factor is checked, for accounts that have one or whose role needs one.
 */
export async function loadSession(
  deps: Pick<Deps, 'db' | 'queryOne' | 'atomic' | 'clock' | 'sha256'>,
  token: string | undefined,
  passkeyCount: (userId: string) => Promise<number>,
): Promise<LoadedSession | null> {
  if (!token || token.length > 100) return null
  const session = await findSession(deps, await sessionIdOf(deps, token))
  if (!session) return null
  const now = deps.clock.now()
  if (sessionExpiry(session, now) !== 'none') return null
  const user = await findAdminUserById(deps, session.admin_user_id)
  if (!user || user.status === 'disabled' || user.password_hash === null) return null
  if (now - session.last_seen_at >= TOUCH_RESOLUTION_MS) {
    await deps.atomic([touchSessionQuery(deps.db, session.id, now)])
    session.last_seen_at = now
  }
  const pending =
    session.second_factor_at === null &&
    (hasSecondFactor(user, await passkeyCount(user.id)) || SECOND_FACTOR_REQUIRED.has(user.role))
  return { session, user: user as LoadedSession['user'], pending }
}

export const markSecondFactorQuery = (deps: Pick<Deps, 'db' | 'clock'>, sessionId: string) =>
  markSessionSecondFactorQuery(deps.db, sessionId, deps.clock.now())

export const markStepUpQuery = (deps: Pick<Deps, 'db' | 'clock'>, sessionId: string) =>
  markSessionStepUpQuery(deps.db, sessionId, deps.clock.now())

export const isSteppedUp = (session: SessionRow, now: number) =>
  session.step_up_at !== null && now - session.step_up_at < STEP_UP_MS

export const revokeSessionQ = (deps: Pick<Deps, 'db' | 'clock'>, sessionId: string) =>
  revokeSessionQuery(deps.db, sessionId, deps.clock.now())

export const revokeAllSessionsQuery = (
  deps: Pick<Deps, 'db' | 'clock'>,
  userId: string,
  exceptId?: string,
) => revokeUserSessionsQuery(deps.db, userId, deps.clock.now(), exceptId)

/**
 * Deletes sessions a day past their absolute limit (the scheduler): the sign-ins themselves stay in
 * the audit log. Also clears expired WebAuthn challenges.
 */
export async function purgeEndedSessions(deps: Pick<Deps, 'db' | 'clock'>): Promise<number> {
  const now = deps.clock.now()
  await purgeChallenges(deps.db, now)
  return deleteSessionsBefore(deps.db, now - SESSION_ABSOLUTE_MS - 24 * 60 * 60_000)
}

/** One's live sessions (expired ones left out), newest first. */
export async function listSessions(deps: Pick<Deps, 'db' | 'clock'>, userId: string) {
  const now = deps.clock.now()
  return (await listSessionRows(deps.db, userId)).filter((s) => sessionExpiry(s, now) === 'none')
}

/** The CSRF token of a session: HMAC of its id, so a token from one session is worth nothing in another. */
export async function csrfTokenFor(
  deps: Pick<Deps, 'hmac' | 'keys'>,
  sessionId: string,
): Promise<string> {
  return toBase64Url(await deps.hmac(deps.keys.current.signing, utf8(`csrf:${sessionId}`)))
}

export async function checkCsrfToken(
  deps: Pick<Deps, 'hmac' | 'keys'>,
  sessionId: string,
  presented: unknown,
): Promise<boolean> {
  if (typeof presented !== 'string' || presented.length > 100) return false
  return timingSafeEqual(utf8(presented), utf8(await csrfTokenFor(deps, sessionId)))
}
