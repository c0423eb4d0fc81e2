/**
 * @module `--url URL --key ADMIN_KEY` on every command that reads or writes the database (all but
 * migrate, backup and restore): the command then acts on a running gateway through /api/v1/admin, so
 * everything it does on a SQLite file it can do on a deployed Worker. The key needs the `admin` scope.
 */
import { UsageError } from './args.ts'

export interface Remote {
  url: string
  key: string
}

/** Takes --url and --key out of `args`; both or neither. */
export function splitRemote(args: string[]): { remote?: Remote; rest: string[] } {
  const rest: string[] = []
  let url: string | undefined
  let key: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    const [name, inline] = a.startsWith('--') ? a.split(/=(.*)/s, 2) : [a]
    if (name === '--url' || name === '--key') {
      const value = inline ?? args[++i]
      if (value === undefined || value === '') throw new UsageError(`${name} needs a value.`)
      if (name === '--url') url = value
      else key = value
    } else rest.push(a)
  }
  if ((url === undefined) !== (key === undefined))
    throw new UsageError(
      '--url and --key go together (the gateway and an API key with the admin scope).',
    )
  if (url === undefined) return { rest }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new UsageError(
      `--url must be the gateway's address, such as https://consent.example.com, got "${url}".`,
    )
  }
  if (!/^https?:$/.test(parsed.protocol))
    throw new UsageError(`--url must be http(s), got "${url}".`)
  return { remote: { url: parsed.origin + parsed.pathname.replace(/\/+$/, ''), key: key! }, rest }
}

export class RemoteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** Calls the admin API; the JSON answer, or a RemoteError carrying the API's error. */
export async function callAdminApi<T = Record<string, unknown>>(
  remote: Remote,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  let res: Response
  try {
    res = await fetch(`${remote.url}/api/v1/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${remote.key}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    throw new RemoteError(0, 'unreachable', `Cannot reach ${remote.url}: ${(err as Error).message}`)
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new RemoteError(
      res.status,
      'not_json',
      `${remote.url} answered ${res.status} without JSON: is it a consent gateway?`,
    )
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string } }).error
    throw new RemoteError(
      res.status,
      e?.code ?? 'error',
      `${remote.url} answered ${res.status}: ${e?.message ?? text.slice(0, 200)}`,
    )
  }
  return json as T
}
