/**
 * @module API-key authentication for /api and /hooks routes: `Authorization: Bearer <key>`, or the
 * header `X-Gateway-Key: <key>` that Mautic's campaign "Send a webhook" action can set. 401 when the
 * key is missing or not valid, 403 when it lacks the route's scope (RFC 6750 §3).
 */
import type { Context, MiddlewareHandler, Next } from 'hono'
import {
  verifyApiKey,
  type ApiKeyDeps,
  type ApiKeyIdentity,
  type ApiKeyScope,
} from '../domain/platform/api-keys.ts'
import { jsonError } from '../lib/http-errors.ts'

declare module 'hono' {
  interface ContextVariableMap {
    /** The verified caller, set by `apiKeyAuth`. */
    apiKey?: ApiKeyIdentity
  }
}

const BEARER = /^Bearer +(\S+) *$/i

/** The key the request presents, if any: the bearer token first, then X-Gateway-Key. */
export function presentedApiKey(c: Context): string | undefined {
  const bearer = BEARER.exec(c.req.header('authorization') ?? '')?.[1]
  return bearer ?? (c.req.header('x-gateway-key')?.trim() || undefined)
}

/** Lets the request through only with a valid key holding `scope`; the key is then `c.get('apiKey')`. */
export function apiKeyAuth(deps: ApiKeyDeps, scope: ApiKeyScope): MiddlewareHandler {
  const admit = (c: Context, next: Next, key: ApiKeyIdentity | null): Response | Promise<void> => {
    if (!key) {
      c.header('WWW-Authenticate', 'Bearer error="invalid_token"')
      return jsonError(c, 401, 'unauthorized', 'The API key is not valid or has been revoked')
    }
    if (!key.scopes.includes(scope)) {
      c.header('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${scope}"`)
      return jsonError(c, 403, 'forbidden', `This API key lacks the "${scope}" scope`)
    }
    c.set('apiKey', key)
    return next()
  }
  // Not async: a cached key is checked without a promise of its own (src/domain/platform/api-keys.ts).
  return function apiKeyAuth(c, next) {
    const presented = presentedApiKey(c)
    if (!presented) {
      c.header('WWW-Authenticate', 'Bearer')
      return Promise.resolve(
        jsonError(c, 401, 'unauthorized', 'An API key is required (Authorization: Bearer)'),
      )
    }
    const key = verifyApiKey(deps, presented)
    if (key instanceof Promise)
      return key.then((k): Promise<Response | void> | Response => admit(c, next, k))
    const admitted = admit(c, next, key)
    return admitted instanceof Response ? Promise.resolve(admitted) : admitted
  }
}
