/**
 * @module The Mautic REST client (docs/mautic.md §2): OAuth2 client_credentials or HTTP Basic, a
 * timeout on every request, Mautic's `{"errors":[…]}` mapped to MauticError, and a few quick retries
 * of 429, 5xx and network failures (the outbox does the long ones). fetch only: Node and Workers.
 */
import type { Config } from '../config.ts'
import { utf8 } from '../lib/encoding.ts'
import {
  MauticError,
  type DncReason,
  type MauticApi,
  type MauticContact,
  type MauticDnc,
} from './types.ts'

export interface MauticClientOptions {
  fetch?: typeof fetch
  /** Epoch milliseconds, for the access token's expiry. */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  /** Per request (default 10 s). A request that takes longer fails with status 0, retryable. */
  timeoutMs?: number
  /** Attempts after the first one when Mautic answers 429 or 5xx or cannot be reached (default 2). */
  maxRetries?: number
}

type Obj = Record<string, unknown>
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE'
interface Call {
  method: Method
  /** Appears in error messages, so never a query string: it may hold an e-mail address. */
  path: string
  query?: Record<string, string>
  body?: unknown
  /** Statuses that are answers rather than errors (404 → null). */
  accept?: number[]
}

const BASE_DELAY_MS = 250
/** Retry-After may ask for an hour (Mautic's limit is per hour): beyond this the outbox waits instead. */
const MAX_WAIT_MS = 2_000
/** Mautic's list routes page; 500 keeps field and tag listings to one call in practice. */
const PAGE = 500

export function createMauticClient(
  config: NonNullable<Config['mautic']>,
  opts: MauticClientOptions = {},
): MauticApi {
  const base = config.url.replace(/\/+$/, '')
  const origin = new URL(base).origin // for messages: never a path, a query or a credential
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init))
  const now = opts.now ?? (() => Date.now())
  const sleep = opts.sleep ?? ((ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const timeoutMs = opts.timeoutMs ?? 10_000
  const maxRetries = opts.maxRetries ?? 2

  /** fetch with the timeout; a failure to get any answer is status 0, always retryable. */
  async function send(url: string, init: RequestInit, where: string): Promise<Response> {
    try {
      return await doFetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) })
    } catch (err) {
      const name = (err as Error).name
      throw new MauticError(
        name === 'TimeoutError' || name === 'AbortError'
          ? `Mautic at ${origin} did not answer ${where} within ${timeoutMs} ms`
          : `Mautic at ${origin} cannot be reached (${where}): ${(err as Error).message}`,
        0,
        null,
        true,
      )
    }
  }

  const auth = config.clientId
    ? oauth(config.clientId, config.clientSecret ?? '')
    : basicAuth(config.username ?? '', config.password ?? '')

  function basicAuth(username: string, password: string) {
    const header = `Basic ${btoa(String.fromCharCode(...utf8(`${username}:${password}`)))}`
    return { kind: 'basic' as const, header: async () => header, invalidate: () => {} }
  }

  /** client_credentials (Mautic 4+): no refresh token, so a new token is asked for when it expires. */
  function oauth(clientId: string, clientSecret: string) {
    let token: { value: string; expiresAt: number } | undefined
    let pending: Promise<{ value: string; expiresAt: number }> | undefined
    const where = 'POST /oauth/v2/token'
    async function fetchToken() {
      const res = await send(
        `${base}/oauth/v2/token`,
        {
          method: 'POST',
          headers: {
            accept: 'application/json',
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: clientId,
            client_secret: clientSecret,
          }).toString(),
        },
        where,
      )
      const body = await readJson(res)
      if (!res.ok) throw tokenError(res.status, body)
      const value = body.access_token
      if (typeof value !== 'string' || value === '')
        throw new MauticError(`Mautic at ${origin} gave no access_token`, res.status, null, false)
      const lifetimeMs = (Number(body.expires_in) || 3600) * 1000 // Mautic's default is 60 min
      // Renew a little early, so that a token never expires between the check and Mautic's.
      return { value, expiresAt: now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) }
    }
    function tokenError(status: number, body: Obj): MauticError {
      const { message, type } = firstError(body)
      if (status === 429 || status >= 500)
        return new MauticError(
          `Mautic failed on ${where}: ${status} ${message}`,
          status,
          type,
          true,
        )
      return new MauticError(
        `Mautic refused MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET (${type ?? status}: ${message}). ` +
          'Create them in Mautic under Settings → API Credentials (OAuth 2) while logged in as an ' +
          'administrator: only then is the client_credentials grant added',
        status,
        type,
        false,
      )
    }
    return {
      kind: 'oauth' as const,
      async header() {
        if (!token || now() >= token.expiresAt) {
          pending ??= fetchToken().finally(() => (pending = undefined))
          token = await pending
        }
        return `Bearer ${token.value}`
      },
      invalidate: () => void (token = undefined),
    }
  }

  async function attempt(call: Call): Promise<{ res: Response; body: Obj }> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: await auth.header(),
    }
    if (call.body !== undefined) headers['content-type'] = 'application/json'
    const query = call.query ? `?${new URLSearchParams(call.query)}` : '' // encodes `+` as %2B
    const where = `${call.method} ${call.path}`
    const res = await send(
      `${base}${call.path}${query}`,
      {
        method: call.method,
        headers,
        body: call.body === undefined ? undefined : JSON.stringify(call.body),
      },
      where,
    )
    const body = await readJson(res)
    if ((res.ok || call.accept?.includes(res.status)) && body === NOT_JSON)
      throw new MauticError(
        `Mautic at ${origin} did not answer ${where} with JSON: is MAUTIC_URL the root of Mautic?`,
        res.status,
        null,
        false,
      )
    return { res, body }
  }

  async function request(call: Call): Promise<{ status: number; body: Obj }> {
    let retries = 0
    let renewed = false
    for (;;) {
      let error: MauticError
      let res: Response | undefined
      try {
        const answer = await attempt(call)
        res = answer.res
        if (res.ok || call.accept?.includes(res.status))
          return { status: res.status, body: answer.body }
        // An access token can be revoked or expire early (Mautic restarts, a shorter lifetime):
        // drop it and try once more with a fresh one.
        if (res.status === 401 && auth.kind === 'oauth' && !renewed) {
          renewed = true
          auth.invalidate()
          continue
        }
        error = apiError(call, res.status, answer.body)
      } catch (err) {
        if (!(err instanceof MauticError)) throw err
        error = err
      }
      if (!error.retryable) throw error
      if (retries >= maxRetries) {
        // Mautic's limit is per hour: a Retry-After longer than this call waits is the outbox's to wait.
        const asked = retryAfterMs(res)
        if (asked !== undefined && asked > MAX_WAIT_MS)
          throw new MauticError(error.message, error.status, error.type, true, asked)
        throw error
      }
      await sleep(retryDelay(res, retries++))
    }
  }

  function apiError(call: Call, status: number, body: Obj): MauticError {
    const { message, type, details } = firstError(body)
    const where = `${call.method} ${call.path}`
    if (type === 'api_disabled')
      return new MauticError(
        'The Mautic API is disabled: turn on "API enabled" in Mautic under Settings → ' +
          'Configuration → API Settings',
        status,
        type,
        false,
      )
    if (status === 401 && auth.kind === 'basic')
      return new MauticError(
        `Mautic refused MAUTIC_USERNAME/MAUTIC_PASSWORD: ${message}`,
        status,
        type,
        false,
      )
    if (status === 401)
      return new MauticError(`Mautic refused a fresh access token: ${message}`, status, type, false)
    // ApiSubscriber answers 403 access_denied to any Basic request while Basic auth is off.
    if (status === 403 && type === 'access_denied' && auth.kind === 'basic')
      return new MauticError(
        `Mautic refused HTTP Basic auth (${message}): turn on "Enable HTTP basic auth" under ` +
          'Settings → Configuration → API Settings, or use MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET',
        status,
        type,
        false,
      )
    if (status === 403)
      return new MauticError(
        `Mautic denied ${where}: ${message} (the role of the API user lacks this permission)`,
        status,
        type,
        false,
      )
    const retryable = status === 429 || status >= 500
    return new MauticError(
      `Mautic ${retryable ? 'failed on' : 'refused'} ${where}: ${status} ${message}${details}`,
      status,
      type,
      retryable,
    )
  }

  /** Retry-After in ms (seconds or an HTTP date, RFC 9110 §10.2.3), when the answer has one. */
  function retryAfterMs(res: Response | undefined): number | undefined {
    const header = res?.headers.get('retry-after')?.trim()
    if (!header) return undefined
    const ms = /^\d+$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now()
    return Number.isFinite(ms) ? Math.max(0, ms) : undefined
  }

  /** Short exponential backoff, or Retry-After, capped. */
  function retryDelay(res: Response | undefined, retry: number): number {
    const asked = retryAfterMs(res)
    if (asked !== undefined) return Math.min(asked, MAX_WAIT_MS)
    return Math.min(BASE_DELAY_MS * 2 ** retry, MAX_WAIT_MS)
  }

  const get = (path: string, query?: Record<string, string>, accept?: number[]) =>
    request({ method: 'GET', path, query, accept })
  const post = (path: string, body: unknown = {}) => request({ method: 'POST', path, body })

  /** Every page of a list route (`total` + the list under `key`, an object keyed by id or an array). */
  async function listAll(path: string, key: string): Promise<Obj[]> {
    const all: Obj[] = []
    for (;;) {
      const { body } = await get(path, { start: String(all.length), limit: String(PAGE) })
      const page = values(body[key])
      all.push(...page)
      if (page.length === 0 || all.length >= (Number(body.total) || 0)) return all
    }
  }

  const contactPath = (id: number) => `/api/contacts/${pathId(id)}`

  return {
    async getContact(id) {
      const { status, body } = await get(contactPath(id), undefined, [404])
      return status === 404 ? null : toContact(body.contact)
    },
    async createContact(email) {
      const { body } = await post('/api/contacts/new', { email })
      return toContact(body.contact).id
    },
    async findContactsByEmail(email) {
      // `search=email:…` is a SQL LIKE in Mautic (`_` and `%` match anything): an exact `where`
      // instead. But Mautic HTML-escapes every `where` value (InputHelper::cleanArray,
      // FILTER_SANITIZE_SPECIAL_CHARS: `'` becomes `&#39;`) while the column holds the address as it
      // is, so an address with `'` or `&` (valid, RFC 5322) would never match: those characters go
      // to the query as LIKE's one-character wildcard, and the matches are then compared exactly.
      const escaped = UNSAFE_IN_WHERE.test(email)
      const { body } = await get('/api/contacts', {
        'where[0][col]': 'email',
        'where[0][expr]': escaped ? 'like' : 'eq',
        'where[0][val]': escaped ? email.replace(UNSAFE_IN_WHERE_ALL, '_') : email,
        orderBy: 'id',
        orderByDir: 'asc',
        limit: '100',
      })
      const found = values(body.contacts).map(toContact)
      // MySQL's default collation ignores case: so does the comparison.
      return escaped ? found.filter((c) => c.email?.toLowerCase() === email.toLowerCase()) : found
    },
    async listContacts({ start, limit }) {
      const { body } = await get('/api/contacts', {
        start: String(start),
        limit: String(limit),
        orderBy: 'id',
        orderByDir: 'asc',
      })
      return { total: Number(body.total) || 0, contacts: values(body.contacts).map(toContact) }
    },
    async editContact(id, { fields, tags }) {
      // Blank values are skipped unless the caller sends `overwriteWithBlank: true` (research §2.3).
      const { body } = await request({
        method: 'PATCH',
        path: `${contactPath(id)}/edit`,
        body: { ...fields, ...(tags && { tags }) },
      })
      return toContact(body.contact)
    },
    async addDnc(id, channel, { reason, comments }) {
      await post(`${contactPath(id)}/dnc/${encodeURIComponent(channel)}/add`, { reason, comments })
    },
    async removeDnc(id, channel) {
      const { body } = await post(`${contactPath(id)}/dnc/${encodeURIComponent(channel)}/remove`)
      return body.recordFound === true || body.recordFound === 1
    },
    async deleteContact(id) {
      const { status } = await request({
        method: 'DELETE',
        path: `${contactPath(id)}/delete`,
        accept: [404],
      })
      return status !== 404
    },
    async sendEmail(emailId, contactId, tokens) {
      // Mautic adds the braces itself when missing (EmailApiController::cleanTokens); we send them
      // so that what we log is what the template holds. A retry after a 5xx may send twice: at least
      // once suits a confirmation mail.
      const braced = Object.fromEntries(
        Object.entries(tokens).map(([k, v]) => [/^\{.*\}$/.test(k) ? k : `{${k}}`, v]),
      )
      const path = `/api/emails/${pathId(emailId)}/contact/${pathId(contactId)}/send`
      const { body } = await post(path, { tokens: braced })
      // 200 {"success":false,"failed":…} when the mailer refused: an error all the same.
      if (body.success !== true && body.success !== 1)
        throw new MauticError(
          `Mautic did not send e-mail ${emailId} to contact ${contactId}: ${redact(JSON.stringify(body.failed ?? body))}`,
          200,
          'send_failed',
          true,
        )
    },
    async contactSegments(id) {
      const { body } = await get(`${contactPath(id)}/segments`)
      return values(body.lists).map((l) => ({ id: Number(l.id), name: String(l.name ?? '') }))
    },
    async contactActivity(id, limit) {
      const { body } = await get(`${contactPath(id)}/activity`, { limit: String(limit) })
      return values(body.events).map((e) => {
        const label = e.eventLabel
        return {
          event: String(e.event ?? ''),
          // eventLabel is a string, or {label, href} when the event links somewhere.
          label: String(
            typeof label === 'object' && label
              ? (label as Obj).label
              : (label ?? e.eventType ?? e.event ?? ''),
          ),
          timestamp: String(e.timestamp ?? ''),
        }
      })
    },
    async listFields() {
      return (await listAll('/api/fields/contact', 'fields')).map((f) => ({
        id: Number(f.id),
        alias: String(f.alias),
        label: String(f.label ?? f.alias),
        type: String(f.type ?? 'text'),
        group: String(f.group ?? 'core'),
        object: String(f.object ?? 'lead'),
        // Older Mautic sends 0/1; a field created in the background is unpublished until its column exists.
        isPublished: f.isPublished === undefined || f.isPublished === true || f.isPublished === 1,
      }))
    },
    async createField({ label, alias, type, group }) {
      const { body } = await post('/api/fields/contact/new', {
        label,
        alias,
        type,
        group: group ?? 'core',
        object: 'lead',
        // FormFieldHelper::validateProperties refuses a boolean field without its two labels.
        ...(type === 'boolean' && { properties: { no: 'No', yes: 'Yes' } }),
      })
      const given = obj(body.field).alias
      return { alias: typeof given === 'string' && given !== '' ? given : alias }
    },
    async listTags() {
      return (await listAll('/api/tags', 'tags')).map((t) => String(t.tag))
    },
    async createTag(tag) {
      await post('/api/tags/new', { tag })
    },
    async listWebhooks() {
      return (await listAll('/api/hooks', 'hooks')).map((h) => ({
        id: Number(h.id),
        webhookUrl: String(h.webhookUrl ?? ''),
        triggers: values(h.triggers).map(String),
        // publishDetails: a missing flag counts as published (Webhook entities default to it).
        isPublished: !(h.isPublished === false || h.isPublished === 0 || h.isPublished === '0'),
        secret: typeof h.secret === 'string' && h.secret !== '' ? h.secret : null,
      }))
    },
    async publishWebhook(id) {
      await request({
        method: 'PATCH',
        path: `/api/hooks/${pathId(id)}/edit`,
        body: { isPublished: true },
      })
    },
    async createWebhook(hook) {
      const { body } = await post('/api/hooks/new', hook)
      return { id: Number(obj(body.hook).id) }
    },
    async checkAccess() {
      await get('/api/contacts', { limit: '1', minimal: '1' })
    },
  }
}

/**
 * What Mautic's `where` cleaning changes (FILTER_SANITIZE_SPECIAL_CHARS: `'"<>&` and control
 * characters), and `\` and `%`, which LIKE would read as an escape or a run.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_WHERE = /['"<>&\\%\u0000-\u001f]/
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_WHERE_ALL = /['"<>&\\%\u0000-\u001f]/g

const NOT_JSON: Obj = Object.freeze({})

/** The body as an object; NOT_JSON when it is not JSON (a proxy's HTML error page, a login page). */
async function readJson(res: Response): Promise<Obj> {
  const text = await res.text().catch(() => '')
  try {
    const parsed: unknown = JSON.parse(text)
    return typeof parsed === 'object' && parsed !== null ? (parsed as Obj) : NOT_JSON
  } catch {
    return NOT_JSON
  }
}

/**
 * `{"errors":[{message,code,type,details}]}` (FetchCommonApiController::returnError), or the legacy
 * OAuth shape `{"error":…,"error_description":…}` that older docs show.
 */
function firstError(body: Obj): { message: string; type: string | null; details: string } {
  const first = obj(values(body.errors)[0])
  const legacy = typeof body.error === 'string' ? body.error : null
  const message = first.message ?? body.error_description ?? obj(body.error).message ?? legacy
  const type = first.type ?? legacy
  const details = first.details
  const hasDetails =
    details !== undefined && details !== null && Object.keys(details as object).length > 0
  return {
    message: redact(typeof message === 'string' ? message : 'no error message'),
    type: typeof type === 'string' ? type : null,
    details: hasDetails ? ` ${redact(JSON.stringify(details))}` : '',
  }
}

/** Messages reach logs and the outbox's last_error, which must never hold an e-mail address. */
const redact = (s: string) => s.replace(/[^\s"'<>:,@]+@[^\s"'<>:,@]+/g, '[email]')

/** REST contact → MauticContact. Ids and reasons come as strings or numbers depending on the version. */
function toContact(raw: unknown): MauticContact {
  const c = obj(raw)
  const groups = obj(c.fields)
  // `fields.all` is the flat alias → value map; without it, the grouped `{alias: {value}}` form.
  const fields: Obj = groups.all
    ? { ...obj(groups.all) }
    : Object.fromEntries(
        Object.values(groups).flatMap((g) =>
          values(g).map((f) => [String(f.alias), f.value ?? null]),
        ),
      )
  const email = fields.email
  return {
    id: Number(c.id),
    email: typeof email === 'string' && email !== '' ? email : null,
    fields,
    tags: values(c.tags)
      .map((t) => (typeof t === 'string' ? t : String(obj(t).tag ?? '')))
      .filter((t) => t !== ''),
    doNotContact: values(c.doNotContact).map(toDnc),
  }
}

function toDnc(d: Obj): MauticDnc {
  return {
    channel: String(d.channel ?? ''),
    reason: Number(d.reason) as DncReason,
    comments: d.comments === null || d.comments === undefined ? null : String(d.comments),
    channelId: d.channelId === null || d.channelId === undefined ? null : Number(d.channelId),
  }
}

/** Mautic's lists are objects keyed by id (`{}` when empty) or arrays (`[]`): the items either way. */
function values(x: unknown): Obj[] {
  if (Array.isArray(x)) return x as Obj[]
  return typeof x === 'object' && x !== null ? (Object.values(x) as Obj[]) : []
}

function obj(x: unknown): Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : {}
}

function pathId(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new TypeError(`not a Mautic id: ${id}`)
  return String(id)
}
