/** @module `consent-gateway api-key create|list|revoke`: the keys of /api, /hooks and the relay. */
import { options, UsageError } from './args.ts'
import { print, withDeps } from './context.ts'
import { callAdminApi, RemoteError, type Remote } from './remote.ts'
import type { Deps } from '../deps.ts'
import {
  API_KEY_CACHE_TTL_MS,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  validateApiKeyInput,
  type ApiKeyInfo,
  type ApiKeyScope,
} from '../domain/platform/api-keys.ts'

export function apiKey([sub, ...args]: string[], remote?: Remote): Promise<number> {
  switch (sub) {
    case 'create':
      return apiKeyCreate(args, remote)
    case 'list':
      options(args, [])
      return remote ? remoteList(remote) : withDeps((deps) => apiKeyList(deps))
    case 'revoke':
      return apiKeyRevoke(args, remote)
    default:
      throw new UsageError(
        sub === undefined
          ? 'api-key: create, list or revoke?'
          : `Unknown command "api-key ${sub}".`,
      )
  }
}

async function apiKeyCreate(args: string[], remote?: Remote): Promise<number> {
  const { name, scopes } = options(args, ['name', 'scopes'])
  if (name === undefined || scopes === undefined)
    throw new UsageError('api-key create needs --name and --scopes.')
  const input = {
    name,
    scopes: scopes
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  }
  const valid = validateApiKeyInput(input) // before opening anything: bad flags change nothing
  if ('error' in valid) throw new UsageError(`Cannot create the API key: ${valid.error}.`)
  if (remote) {
    const r = await callAdminApi<{ key: string; api_key: { id: string } }>(
      remote,
      'POST',
      '/api-keys',
      valid,
    )
    console.error(
      `API key "${valid.name}" (id ${r.api_key.id}) created on ${remote.url} with scopes ${valid.scopes.join(', ')}. ` +
        'It is shown only once, on the next line: store it now.',
    )
    await print(r.key)
    return 0
  }
  return withDeps(async (deps) => {
    const created = await createApiKey(deps, input)
    if (!created.ok) throw new UsageError(`Cannot create the API key: ${created.error}.`)
    const { id, name, scopes } = created.apiKey
    console.error(
      `API key "${name}" (id ${id}) created with scopes ${scopes.join(', ')}. ` +
        'It is shown only once, on the next line: store it now.',
    )
    await print(created.key)
    return 0
  })
}

async function remoteList(remote: Remote): Promise<number> {
  const r = await callAdminApi<{
    api_keys: {
      id: string
      name: string
      scopes: ApiKeyScope[]
      created_at: number
      last_used_at: number | null
      revoked_at: number | null
    }[]
  }>(remote, 'GET', '/api-keys')
  return printKeys(
    r.api_keys.map((k) => ({
      id: k.id,
      name: k.name,
      scopes: k.scopes,
      createdAt: k.created_at,
      lastUsedAt: k.last_used_at,
      revokedAt: k.revoked_at,
    })),
  )
}

async function apiKeyList(deps: Deps): Promise<number> {
  return printKeys(await listApiKeys(deps))
}

async function printKeys(keys: ApiKeyInfo[]): Promise<number> {
  if (keys.length === 0) {
    console.error('No API keys yet: create one with `consent-gateway api-key create`.')
    return 0
  }
  const time = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString())
  const rows = [
    ['ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((k) => [
      k.id,
      k.name,
      k.scopes.join(','),
      time(k.createdAt),
      time(k.lastUsedAt),
      time(k.revokedAt),
    ]),
  ]
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  await print(
    rows
      .map((r) =>
        r
          .map((v, i) => v.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n'),
  )
  return 0
}

async function apiKeyRevoke(args: string[], remote?: Remote): Promise<number> {
  const { id } = options(args, ['id'])
  if (!id) throw new UsageError('api-key revoke needs --id (see `consent-gateway api-key list`).')
  if (remote) {
    try {
      await callAdminApi(remote, 'DELETE', `/api-keys/${encodeURIComponent(id)}`)
    } catch (err) {
      if (err instanceof RemoteError && err.status === 404) {
        console.error(`No API key with id "${id}" is active on ${remote.url}: nothing was revoked.`)
        return 1
      }
      throw err
    }
    console.error(`API key ${id} revoked on ${remote.url}.`)
    return 0
  }
  return withDeps(async (deps) => {
    if (!(await revokeApiKey(deps, id))) {
      console.error(`No API key with id "${id}" is active: nothing was revoked.`)
      return 1
    }
    console.error(
      `API key ${id} revoked; a running gateway refuses it within ${API_KEY_CACHE_TTL_MS / 1000} s.`,
    )
    return 0
  })
}
