/** @module `consent-gateway api-key create|list|revoke`: the keys of /api, /hooks and the relay. */
import { options, UsageError } from './args.ts'
import { print, withDeps } from './context.ts'
import type { Deps } from '../deps.ts'
import {
  API_KEY_CACHE_TTL_MS,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  validateApiKeyInput,
} from '../domain/platform/api-keys.ts'

export function apiKey([sub, ...args]: string[]): Promise<number> {
  switch (sub) {
    case 'create':
      return apiKeyCreate(args)
    case 'list':
      options(args, [])
      return withDeps(apiKeyList)
    case 'revoke':
      return apiKeyRevoke(args)
    default:
      throw new UsageError(
        sub === undefined
          ? 'api-key: create, list or revoke?'
          : `Unknown command "api-key ${sub}".`,
      )
  }
}

async function apiKeyCreate(args: string[]): Promise<number> {
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

async function apiKeyList(deps: Deps): Promise<number> {
  const keys = await listApiKeys(deps)
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

async function apiKeyRevoke(args: string[]): Promise<number> {
  const { id } = options(args, ['id'])
  if (!id) throw new UsageError('api-key revoke needs --id (see `consent-gateway api-key list`).')
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
