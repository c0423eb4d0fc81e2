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
  const refuse = (
    c: Context,
    challenge: string,
    status: 401 | 403,
    code: string,
    message: string,
  ) => {
    c.header('WWW-Authenticate', challenge)
    return Promise.resolve(jsonError(c, status, code, message))
  }
  const admit = (c: Context, next: Next, key: ApiKeyIdentity | null): Promise<Response | void> => {
    if (!key) return refuse(c, 'Bearer error="invalid_token"', 401, 'unauthorized', INVALID_KEY)
    if (!key.scopes.includes(scope))
      return refuse(
        c,
        `Bearer error="insufficient_scope", scope="${scope}"`,
        403,
        'forbidden',
        `This API key lacks the "${scope}" scope`,
      )
    c.set('apiKey', key)
    return next()
  }
  // Not async: a cached key is checked without a promise of its own (src/domain/platform/api-keys.ts).
  return function apiKeyAuth(c, next) {
    const presented = presentedApiKey(c)
    if (!presented) return refuse(c, 'Bearer', 401, 'unauthorized', MISSING_KEY)
    const key = verifyApiKey(deps, presented)
    return key instanceof Promise ? key.then((k) => admit(c, next, k)) : admit(c, next, key)
  }
}

const MISSING_KEY = 'An API key is required (Authorization: Bearer)'
const INVALID_KEY = 'The API key is not valid or has been revoked'
