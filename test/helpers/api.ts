/** Calling the real app's API with a real API key. */
import type { App } from '../../src/app.ts'
import type { Deps } from '../../src/deps.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import type { ApiKeyScope } from '../../src/domain/platform/api-keys.ts'

export async function apiKey(
  deps: Deps,
  scopes: ApiKeyScope[] = ['subscribe', 'gate', 'consents:read'],
) {
  const created = await createApiKey(deps, { name: 'test-site', scopes })
  if (!created.ok) throw new Error(created.error)
  return created.key
}

export function api(app: App, key: string) {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    })
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & {
        error?: { code: string; message: string }
      },
    }
  }
  return {
    post: (path: string, body?: unknown) => call('POST', path, body),
    get: (path: string) => call('GET', path),
    gate: async (purpose: string, contacts: unknown[]) =>
      (await call('POST', '/api/v1/gate', { purpose, contacts })).body.results as {
        allowed: boolean
        reason: string | null
      }[],
  }
}
