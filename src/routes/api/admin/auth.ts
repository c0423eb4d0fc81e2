/**
 * @module Who may call /api/v1/admin: an API key with the `admin` scope (the CLI's --url --key, scripts;
 * such a key holds every permission, so only an owner creates one), or a signed-in staff member's
 * browser session, held to its role's permissions, to the origin check and to the session's CSRF token
 * in the X-CSRF-Token header on every write. A key without the `admin` scope: 403.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Deps } from '../../../deps.ts'
import type { Actor } from '../../../domain/admin/accounts.ts'
import { listPasskeys } from '../../../domain/admin/passkeys.ts'
import { can, type Permission, type Role } from '../../../domain/admin/permissions.ts'
import {
  checkCsrfToken,
  isSteppedUp,
  loadSession,
  SESSION_COOKIE,
} from '../../../domain/admin/sessions.ts'
import { verifyApiKey } from '../../../domain/platform/api-keys.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { presentedApiKey } from '../../../middleware/api-key-auth.ts'

export interface AdminCaller extends Actor {
  /** The session's role; undefined for an admin API key (every permission). */
  role?: Role
  userId?: string
}

declare module 'hono' {
  interface ContextVariableMap {
    adminCaller?: AdminCaller
  }
}

export interface ApiOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE'
  path: string
  permission: Permission
  stepUp?: boolean
}

/** Every admin API operation with its permission: what the role × operation test walks. */
export const ADMIN_API_OPERATIONS: ApiOperation[] = []

export function adminAuth(deps: Deps, op: ApiOperation): MiddlewareHandler {
  if (!ADMIN_API_OPERATIONS.some((o) => o.method === op.method && o.path === op.path))
    ADMIN_API_OPERATIONS.push(op)
  return adminGate(deps, op)
}

/** The check itself: an admin key, or a session whose role holds the permission (and a step-up). */
export function adminGate(
  deps: Deps,
  op: Pick<ApiOperation, 'permission' | 'stepUp'>,
): MiddlewareHandler {
  return async (c, next) => {
    const base = { ip: deps.clientIp(c) ?? null, userAgent: c.req.header('user-agent') ?? null }
    const presented = presentedApiKey(c)
    if (presented) {
      const key = await verifyApiKey(deps, presented)
      if (!key) {
        c.header('WWW-Authenticate', 'Bearer error="invalid_token"')
        return jsonError(c, 401, 'unauthorized', 'The API key is not valid or has been revoked')
      }
      if (!key.scopes.includes('admin')) {
        c.header('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="admin"')
        return jsonError(c, 403, 'forbidden', 'This API key lacks the "admin" scope')
      }
      c.set('adminCaller', { ...base, actor: `api:${key.id}` })
      return next()
    }
    const session = await loadSession(
      deps,
      getCookie(c, SESSION_COOKIE),
      async (id) => (await listPasskeys(deps, id)).length,
    )
    if (!session || session.pending) {
      c.header('WWW-Authenticate', 'Bearer')
      return jsonError(
        c,
        401,
        'unauthorized',
        'An admin API key or a signed-in session is required',
      )
    }
    if (c.req.method !== 'GET') {
      const origin = c.req.header('origin')
      if (
        origin !== new URL(deps.config.publicUrl).origin ||
        !(await checkCsrfToken(deps, session.session.id, c.req.header('x-csrf-token')))
      )
        return jsonError(
          c,
          403,
          'forbidden',
          "A browser write needs our Origin and the session's X-CSRF-Token",
        )
    }
    if (!can(session.user.role, op.permission))
      return jsonError(c, 403, 'forbidden', `Your role lacks the "${op.permission}" permission`)
    if (op.stepUp && !isSteppedUp(session.session, deps.clock.now()))
      return jsonError(
        c,
        403,
        'step_up_required',
        'Confirm your second factor again first (/admin/step-up)',
      )
    c.set('adminCaller', {
      ...base,
      actor: `admin:${session.user.id}`,
      role: session.user.role,
      userId: session.user.id,
    })
    return next()
  }
}

export const callerOf = (c: Context): AdminCaller => c.get('adminCaller') ?? { actor: 'anonymous' }
