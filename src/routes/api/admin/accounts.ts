/**
 * @module /api/v1/admin/api-keys and /api/v1/admin/users: API keys (list with last use, create with
 * scopes — the key is in the answer once —, revoke) and staff accounts (list, create or invite,
 * change role, disable, lift a lock-out). Every change is an audit entry.
 */
import type { Hono } from 'hono'
import { describeRoute } from '../describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import {
  changeRole,
  createAccount,
  liftLockout,
  listAdminUsers,
  setDisabled,
} from '../../../domain/admin/accounts.ts'
import { recordAudit } from '../../../domain/admin/audit.ts'
import { ROLES, can } from '../../../domain/admin/permissions.ts'
import {
  API_KEY_SCOPES,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../../domain/platform/api-keys.ts'
import { jsonError } from '../../../lib/http-errors.ts'
import { adminAuth, callerOf } from './auth.ts'
import { errors, jsonBody, ok, security } from './schemas.ts'

const ApiKey = v.object({
  id: v.string(),
  name: v.string(),
  scopes: v.array(v.picklist(API_KEY_SCOPES)),
  created_at: v.number(),
  last_used_at: v.nullable(v.number()),
  revoked_at: v.nullable(v.number()),
})
const NewApiKey = v.object({
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  scopes: v.pipe(v.array(v.picklist(API_KEY_SCOPES)), v.minLength(1)),
})
const User = v.object({
  id: v.string(),
  email: v.string(),
  role: v.picklist(ROLES),
  status: v.picklist(['invited', 'active', 'disabled']),
  locked: v.boolean(),
  totp: v.boolean(),
  passkeys: v.number(),
  created_at: v.number(),
  last_sign_in_at: v.nullable(v.number()),
})
const NewUser = v.object({
  email: v.pipe(v.string(), v.maxLength(254)),
  role: v.picklist(ROLES),
  locale: v.optional(v.picklist(['fr', 'en'])),
  /** true: the invitation goes by e-mail; false: the set-up link is in the answer (create-admin). */
  mail: v.optional(v.boolean()),
})
const UserChange = v.object({
  role: v.optional(v.picklist(ROLES)),
  disabled: v.optional(v.boolean()),
})

const keyView = (k: Awaited<ReturnType<typeof listApiKeys>>[number]) => ({
  id: k.id,
  name: k.name,
  scopes: [...k.scopes],
  created_at: k.createdAt,
  last_used_at: k.lastUsedAt,
  revoked_at: k.revokedAt,
})

export function accountOperations(deps: Deps, app: Hono) {
  app.get(
    '/api-keys',
    describeRoute({
      summary: 'API keys, with their last use (never a secret)',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.object({ api_keys: v.array(ApiKey) })), ...errors() },
    }),
    adminAuth(deps, { method: 'GET', path: '/api-keys', permission: 'keys.manage' }),
    async (c) => c.json({ api_keys: (await listApiKeys(deps)).map(keyView) }),
  )
  app.post(
    '/api-keys',
    describeRoute({
      summary: 'Create an API key; the key is in this answer only. The admin scope needs an owner.',
      tags: ['admin'],
      security,
      responses: {
        201: ok(v.object({ key: v.string(), api_key: ApiKey }), 'Created'),
        ...errors(true),
      },
    }),
    adminAuth(deps, { method: 'POST', path: '/api-keys', permission: 'keys.manage', stepUp: true }),
    jsonBody(NewApiKey),
    async (c) => {
      const input = c.req.valid('json')
      const caller = callerOf(c)
      if (input.scopes.includes('admin') && caller.role && !can(caller.role, 'users.manage'))
        return jsonError(c, 403, 'forbidden', 'Only an owner creates keys with the admin scope')
      const created = await createApiKey(deps, input)
      if (!created.ok) return jsonError(c, 400, 'invalid_body', created.error)
      await recordAudit(deps, {
        ...caller,
        action: 'apikey.create',
        target: `apikey:${created.apiKey.id}`,
        details: { name: created.apiKey.name, scopes: created.apiKey.scopes },
      })
      return c.json({ key: created.key, api_key: keyView(created.apiKey) }, 201)
    },
  )
  app.delete(
    '/api-keys/:id',
    describeRoute({
      summary: 'Revoke an API key',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ revoked: v.literal(true) })),
        404: ok(v.any(), 'No active key with this id'),
        ...errors(),
      },
    }),
    adminAuth(deps, { method: 'DELETE', path: '/api-keys/{id}', permission: 'keys.manage' }),
    async (c) => {
      const id = c.req.param('id')
      if (!(await revokeApiKey(deps, id)))
        return jsonError(c, 404, 'not_found', 'No active API key with this id')
      await recordAudit(deps, { ...callerOf(c), action: 'apikey.revoke', target: `apikey:${id}` })
      return c.json({ revoked: true as const })
    },
  )

  app.get(
    '/users',
    describeRoute({
      summary: 'Staff accounts',
      tags: ['admin'],
      security,
      responses: { 200: ok(v.object({ users: v.array(User) })), ...errors() },
    }),
    adminAuth(deps, { method: 'GET', path: '/users', permission: 'users.manage' }),
    async (c) =>
      c.json({
        users: (await listAdminUsers(deps)).map((u) => ({
          id: u.id,
          email: u.email,
          role: u.role,
          status: u.status,
          locked: u.locked,
          totp: u.secondFactor.totp,
          passkeys: u.secondFactor.passkeys,
          created_at: u.createdAt,
          last_sign_in_at: u.lastSignInAt,
        })),
      }),
  )
  app.post(
    '/users',
    describeRoute({
      summary:
        'Create a staff account with a one-time set-up link (in the answer), or invite by e-mail (mail: true)',
      tags: ['admin'],
      security,
      responses: {
        201: ok(v.object({ id: v.string(), setup_url: v.nullable(v.string()) }), 'Created'),
        409: ok(ErrorLike(), 'The address has an account'),
        ...errors(true),
      },
    }),
    adminAuth(deps, { method: 'POST', path: '/users', permission: 'users.manage', stepUp: true }),
    jsonBody(NewUser),
    async (c) => {
      const input = c.req.valid('json')
      const mail = input.mail ?? false
      const r = await createAccount(deps, { ...input, mail }, callerOf(c))
      if (!r.ok)
        return r.error === 'exists'
          ? jsonError(c, 409, 'exists', 'This address already has an active account')
          : jsonError(
              c,
              400,
              r.error,
              r.error === 'invalid_email' ? 'email is not an e-mail address' : 'unknown role',
            )
      if (mail) c.set('outboxPending', true)
      return c.json({ id: r.user.id, setup_url: mail ? null : r.url }, 201)
    },
  )
  app.patch(
    '/users/:id',
    describeRoute({
      summary: 'Change a role, disable or enable an account',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ ok: v.literal(true) })),
        404: ok(ErrorLike(), 'No such account'),
        409: ok(ErrorLike(), 'The last owner, or oneself'),
        ...errors(true),
      },
    }),
    adminAuth(deps, {
      method: 'PATCH',
      path: '/users/{id}',
      permission: 'users.manage',
      stepUp: true,
    }),
    jsonBody(UserChange),
    async (c) => {
      const input = c.req.valid('json')
      const id = c.req.param('id') ?? ''
      const caller = callerOf(c)
      for (const r of [
        input.role !== undefined
          ? await changeRole(deps, id, input.role, caller)
          : { ok: true as const },
        input.disabled !== undefined
          ? await setDisabled(deps, id, input.disabled, caller)
          : { ok: true as const },
      ])
        if (!r.ok)
          return jsonError(
            c,
            r.error === 'not_found' ? 404 : 409,
            r.error,
            r.error.replace(/_/g, ' '),
          )
      return c.json({ ok: true as const })
    },
  )
  app.post(
    '/users/:id/unlock',
    describeRoute({
      summary: 'Lift a sign-in lock-out',
      tags: ['admin'],
      security,
      responses: {
        200: ok(v.object({ ok: v.literal(true) })),
        404: ok(ErrorLike(), 'No such account'),
        ...errors(),
      },
    }),
    adminAuth(deps, {
      method: 'POST',
      path: '/users/{id}/unlock',
      permission: 'users.manage',
      stepUp: true,
    }),
    async (c) => {
      const r = await liftLockout(deps, c.req.param('id'), callerOf(c))
      return r.ok
        ? c.json({ ok: true as const })
        : jsonError(c, 404, 'not_found', 'No such account')
    },
  )
}

function ErrorLike() {
  return v.object({ error: v.object({ code: v.string(), message: v.string() }) })
}
