/**
 * @module What every /api/v1/admin operation shares: the permission it needs
 * (src/domain/admin/permissions.ts), declared once per route for the check and the OpenAPI document
 * (`x-permission`), and the staff member (or key) acting, as the domain records it.
 *
 * An admin operation takes an API key with the `admin` scope (every permission), or a signed-in
 * session whose role holds the permission (auth.ts); exports of personal data and erasures also need
 * a fresh second factor (step-up).
 */
import type { Context, MiddlewareHandler } from 'hono'
import * as v from 'valibot'
import type { Deps } from '../../../deps.ts'
import type { Permission } from '../../../domain/admin/permissions.ts'
import { adminGate, callerOf } from './auth.ts'
import { scoped } from '../schemas.ts'

/** Permissions whose operations a session may use only right after a fresh second factor. */
const STEP_UP: ReadonlySet<Permission> = new Set(['exports.personal', 'contacts.erase'])

/** Lets through a caller allowed `permission`: an admin key, or a session of a role that holds it. */
export function requirePermission(deps: Deps, permission: Permission): MiddlewareHandler {
  return adminGate(deps, { permission, stepUp: STEP_UP.has(permission) })
}

/** The document fragment of an admin operation: its scope and the permission it needs. */
export const permitted = (permission: Permission) => ({
  ...scoped('admin'),
  'x-permission': permission,
})

/** Who acts, as recorded beside what they did: `api:<key id>` or a session's `admin:<id>`. */
export const actor = (c: Context) => callerOf(c).actor

/** A date and time in ISO 8601 (what JSON bodies carry; the domain takes epoch milliseconds). */
export const isoDate = (field: string) =>
  v.pipe(
    v.string(`${field} must be a date and time (ISO 8601)`),
    v.maxLength(40, `${field} must be a date and time (ISO 8601)`),
    v.check((s) => !Number.isNaN(Date.parse(s)), `${field} must be a date and time (ISO 8601)`),
  )

export function ms(value: string): number
export function ms(value: string | undefined): number | undefined
export function ms(value: string | null | undefined): number | null | undefined
export function ms(value: string | null | undefined) {
  return value === null ? null : value === undefined ? undefined : Date.parse(value)
}

export const text = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.maxLength(max, `${field} must be at most ${max} characters`),
  )

export const idParam = (name = 'id') => ({
  name,
  in: 'path' as const,
  required: true,
  schema: { type: 'string' as const },
})
