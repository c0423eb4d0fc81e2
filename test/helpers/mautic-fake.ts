/**
 * @module A stateful in-memory Mautic 5 REST API as msw handlers, for tests of everything that talks
 * to Mautic (docs/mautic.md §2). It checks auth as Mautic does (a Bearer token it issued, or
 * Basic), answers with Mautic's shapes and error bodies, follows merges, and can fail on demand.
 *
 * ```ts
 * const mautic = useMautic() // one msw server for the file, state reset before each test
 * const anne = mautic.addContact({ email: 'anne@example.test', tags: ['vip'] })
 * const api = createMauticClient(mautic.connection)
 * expect((await api.getContact(anne.id))?.tags).toEqual(['vip'])
 * mautic.failNext(1, 503) // or 'timeout', 'network'; mautic.down(true) for an outage
 * ```
 */
import { delay, http, HttpResponse, type HttpHandler } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, beforeEach } from 'vitest'

export interface FakeDnc {
  id: number
  channel: string
  /** 1 the contact's own unsubscribe, 2 bounce, 3 manual. */
  reason: number
  comments: string
  channelId: number | null
}

export interface FakeContact {
  id: number
  /** alias → value, as `fields.all` returns it (`email` included). */
  fields: Record<string, unknown>
  tags: string[]
  dnc: FakeDnc[]
  segments: { id: number; name: string; alias: string }[]
  /** The timeline (`/activity`), newest first. */
  activity: {
    event: string
    eventLabel: string | { label: string; href: string }
    timestamp: string
  }[]
  dateAdded: string
}

export interface FakeField {
  id: number
  label: string
  alias: string
  type: string
  group: string
  order: number
  /** Mautic's own fields (isFixed): they cannot be deleted. */
  fixed: boolean
  properties: Record<string, unknown>
}

export interface FakeWebhook {
  id: number
  name: string
  description: string
  webhookUrl: string
  secret: string
  triggers: string[]
  isPublished: boolean
  /** Epoch ms of the last edit (Webhook::wasModifiedRecently spares a webhook edited within 2 days). */
  dateModified?: number
  /** Status of each delivery, oldest first (`webhook_logs`). */
  log?: number[]
}

export interface FakeRequest {
  method: string
  /** Relative to the base URL, without the query: `/api/contacts/12`, `/oauth/v2/token`. */
  path: string
  query: URLSearchParams
  /** The raw query string as sent (to check encoding). */
  search: string
  /** Parsed JSON, or the form fields of a form-encoded body. */
  body: unknown
  authorization: string | null
}

export type FakeFailure = number | 'timeout' | 'network'

/** What `createMauticClient` takes (config.mautic). */
export interface MauticConnection {
  url: string
  clientId?: string
  clientSecret?: string
  username?: string
  password?: string
}

export interface MauticFakeOptions {
  auth?: 'oauth' | 'basic'
  clientId?: string
  clientSecret?: string
  username?: string
  password?: string
  /** `expires_in` of the tokens issued (Mautic's default: 3600). */
  tokenLifetimeS?: number
  /** Ids of the Mautic e-mails that exist (sendEmail to another id is a 404); kept across resets. */
  emails?: number[]
  now?: () => number
}

/**
 * Mautic's own contact fields after install, in its order: alias, type, group, label
 * (LeadBundle/Model/FieldModel.php `$coreFields`, labels from InstallBundle's fixtures.ini).
 */
const CORE_FIELDS: [string, string, string, string][] = [
  ['title', 'lookup', 'core', 'Title'],
  ['firstname', 'text', 'core', 'First Name'],
  ['lastname', 'text', 'core', 'Last Name'],
  ['company', 'text', 'core', 'Primary company'],
  ['position', 'text', 'core', 'Position'],
  ['email', 'email', 'core', 'Email'],
  ['mobile', 'tel', 'core', 'Mobile'],
  ['phone', 'tel', 'core', 'Phone'],
  ['points', 'number', 'core', 'Points'],
  ['fax', 'tel', 'core', 'Fax'],
  ['address1', 'text', 'core', 'Address Line 1'],
  ['address2', 'text', 'core', 'Address Line 2'],
  ['city', 'text', 'core', 'City'],
  ['state', 'region', 'core', 'State'],
  ['zipcode', 'text', 'core', 'Zip Code'],
  ['country', 'country', 'core', 'Country'],
  ['preferred_locale', 'locale', 'core', 'Preferred Locale'],
  ['timezone', 'timezone', 'core', 'Preferred Timezone'],
  ['last_active', 'datetime', 'core', 'Date Last Active'],
  ['attribution_date', 'datetime', 'core', 'Attribution Date'],
  ['attribution', 'number', 'core', 'Attribution'],
  ['website', 'url', 'core', 'Website'],
  ['facebook', 'text', 'social', 'Facebook'],
  ['foursquare', 'text', 'social', 'Foursquare'],
  ['instagram', 'text', 'social', 'Instagram'],
  ['linkedin', 'text', 'social', 'LinkedIn'],
  ['skype', 'text', 'social', 'Skype'],
  ['twitter', 'text', 'social', 'Twitter'],
]

const err = (status: number, message: string, type: string | null = null, details: unknown = []) =>
  HttpResponse.json({ errors: [{ message, code: status, details, type }] }, { status })
/** FetchCommonApiController::notFound(). */
const notFound = () => err(404, 'Item was not found.')
const badRequest = (message: string, details: unknown = []) => err(400, message, null, details)
/** noxlogic/ratelimit-bundle's answer (no `type`). */
const rateLimited = () =>
  HttpResponse.json(
    {
      errors: [
        {
          code: 429,
          message: 'You exceeded the rate limit of 100 API calls per hour.',
          details: [],
        },
      ],
    },
    { status: 429 },
  )

/** A few of the SQL keywords Doctrine's platforms reserve: FormModel::cleanAlias prefixes them with `f_`. */
const RESERVED = new Set([
  'select',
  'from',
  'where',
  'order',
  'group',
  'table',
  'index',
  'key',
  'date',
])

/**
 * FormModel::cleanAlias($alias, 'f_', $max): letters, digits and `_` (spaces become `_`), lower case,
 * cut to `max` characters, one trailing `_` dropped, a reserved word or a number prefixed with `f_`.
 */
export function cleanAlias(raw: string, max: number): string {
  let alias = raw
    .trim()
    .replace(/ /g, '_')
    .replace(/[^0-9a-z_]+/gi, '')
    .toLowerCase()
  if (alias === '') alias = 'abcde'
  alias = alias.slice(0, max)
  if (alias.endsWith('_')) alias = alias.slice(0, -1)
  if (RESERVED.has(alias) || /^\d+(\.\d+)?$/.test(alias)) alias = `f_${alias}`
  return alias
}

/**
 * PHP's FILTER_SANITIZE_SPECIAL_CHARS, which InputHelper::clean applies to every `where` value of a
 * list request (FetchCommonApiController::getWhereFromRequest → InputHelper::cleanArray): `'"<>&` and
 * bytes below 32 become numeric entities, so such a value never equals what the column holds.
 */
export function sanitizeSpecialChars(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/['"<>&\u0000-\u001f]/g, (ch) => `&#${ch.charCodeAt(0)};`)
}

/** PHP's FILTER_SANITIZE_EMAIL (InputHelper::email, on every email field saved): what the column holds. */
export const sanitizeEmail = (value: string) =>
  value
    .slice(0, 254)
    .replace(/[^a-zA-Z0-9!#$%&'*+\-=?^_`{|}~@.[\]]/g, '')
    .trim()

/** SQL LIKE on MySQL's *_ci collation: `%` any run, `_` any one character, case ignored. */
function like(value: string, pattern: string): boolean {
  let re = '^'
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!
    if (ch === '\\' && i + 1 < pattern.length) re += escapeRe(pattern[++i]!)
    else if (ch === '%') re += '[\\s\\S]*'
    else if (ch === '_') re += '[\\s\\S]'
    else re += escapeRe(ch)
  }
  return new RegExp(`${re}$`, 'i').test(value)
}
const escapeRe = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

export function mauticFake(baseUrl = 'https://mautic.test', opts: MauticFakeOptions = {}) {
  const base = baseUrl.replace(/\/+$/, '')
  const basePath = new URL(base).pathname.replace(/\/$/, '')
  const authMode = opts.auth ?? 'oauth'
  const clientId = opts.clientId ?? 'test-client'
  const clientSecret = opts.clientSecret ?? 'test-client-secret'
  const username = opts.username ?? 'api-user'
  const password = opts.password ?? 'api-password'
  const now = opts.now ?? (() => Date.now())
  const iso = () => new Date(now()).toISOString().replace(/\.\d{3}Z$/, '+00:00')

  const contacts = new Map<number, FakeContact>()
  const mergedInto = new Map<number, number>()
  const fields: FakeField[] = []
  const tags: { id: number; tag: string }[] = []
  const webhooks: FakeWebhook[] = []
  const emails = new Map<number, { id: number; name: string }>()
  const requests: FakeRequest[] = []
  const sent: { emailId: number; contactId: number; tokens: Record<string, string> }[] = []
  const tokens = new Map<string, number>() // access token → expiry (epoch ms)
  const failures: { failure: FakeFailure; body?: unknown; headers?: Record<string, string> }[] = []
  const config = { apiEnabled: true, basicAuthEnabled: authMode === 'basic', stringIds: false }
  const ids = { contact: 0, dnc: 0, field: 0, tag: 0, hook: 0 }
  let isDown = false

  function reset() {
    for (const m of [contacts, mergedInto, emails, tokens]) m.clear()
    for (const a of [fields, tags, webhooks, requests, sent, failures]) a.length = 0
    Object.assign(config, {
      apiEnabled: true,
      basicAuthEnabled: authMode === 'basic',
      stringIds: false,
    })
    Object.assign(ids, { contact: 0, dnc: 0, field: 0, tag: 0, hook: 0 })
    isDown = false
    for (const [alias, type, group, label] of CORE_FIELDS)
      addField({ alias, type, group, label, fixed: true })
    for (const id of opts.emails ?? []) addEmail(id)
  }

  function addField(f: {
    alias: string
    type?: string
    label?: string
    group?: string
    fixed?: boolean
    properties?: Record<string, unknown>
  }) {
    const field: FakeField = {
      id: ++ids.field,
      label: f.label ?? f.alias,
      alias: f.alias,
      type: f.type ?? 'text',
      group: f.group ?? 'core',
      order: fields.length + 1,
      fixed: f.fixed ?? false,
      properties: f.properties ?? (f.type === 'boolean' ? { no: 'No', yes: 'Yes' } : {}),
    }
    fields.push(field)
    return field
  }

  function addEmail(id: number, name = `E-mail ${id}`) {
    emails.set(id, { id, name })
  }

  function tagId(tag: string): number {
    const row = tags.find((t) => t.tag === tag) ?? { id: ++ids.tag, tag }
    if (!tags.includes(row)) tags.push(row)
    return row.id
  }

  function addContact(input: {
    email?: string | null
    fields?: Record<string, unknown>
    tags?: string[]
    dnc?: { channel?: string; reason: number; comments?: string; channelId?: number | null }[]
  }): FakeContact {
    const values = { ...input.fields, ...(input.email != null && { email: input.email }) }
    for (const alias of Object.keys(values))
      if (!fields.some((f) => f.alias === alias))
        throw new Error(`mauticFake.addContact: no contact field "${alias}" (add it with addField)`)
    const contact: FakeContact = {
      id: ++ids.contact,
      fields: values,
      tags: [],
      dnc: [],
      segments: [],
      activity: [],
      dateAdded: iso(),
    }
    for (const t of input.tags ?? []) modifyTag(contact, t)
    for (const d of input.dnc ?? [])
      contact.dnc.push({
        id: ++ids.dnc,
        channel: d.channel ?? 'email',
        reason: d.reason,
        comments: d.comments ?? '',
        channelId: d.channelId ?? null,
      })
    contacts.set(contact.id, contact)
    return contact
  }

  /** The contact an id leads to: LeadModel::getEntity follows merge records to the winner. */
  function resolve(id: number): FakeContact | undefined {
    const seen = new Set<number>()
    while (!contacts.has(id) && mergedInto.has(id) && !seen.has(id)) {
      seen.add(id)
      id = mergedInto.get(id)!
    }
    return contacts.get(id)
  }

  /** ContactMerger, simplified: the winner keeps its values and gains the loser's where it has none. */
  function merge(loserId: number, winnerId: number): FakeContact {
    const loser = contacts.get(loserId)
    const winner = contacts.get(winnerId)
    if (!loser || !winner)
      throw new Error(`mauticFake.merge: no contact ${loser ? winnerId : loserId}`)
    for (const [alias, value] of Object.entries(loser.fields))
      if (winner.fields[alias] == null || winner.fields[alias] === '') winner.fields[alias] = value
    for (const t of loser.tags) if (!winner.tags.includes(t)) winner.tags.push(t)
    for (const d of loser.dnc)
      if (!winner.dnc.some((w) => w.channel === d.channel)) winner.dnc.push(d)
    for (const s of loser.segments)
      if (!winner.segments.some((w) => w.id === s.id)) winner.segments.push(s)
    contacts.delete(loserId)
    mergedInto.set(loserId, winnerId)
    return winner
  }

  /** LeadModel::modifyTags: a leading `-` removes the tag. */
  function modifyTag(contact: FakeContact, raw: string) {
    const tag = raw.trim()
    if (tag.startsWith('-')) contact.tags = contact.tags.filter((t) => t !== tag.slice(1))
    else if (tag !== '' && !contact.tags.includes(tag)) {
      tagId(tag)
      contact.tags.push(tag)
    }
  }

  /**
   * Known fields only (Mautic drops unknown aliases silently); a blank value given is skipped unless
   * `overwriteWithBlank` is true, and a field the request leaves out is never touched (PATCH).
   */
  function setFields(contact: FakeContact, body: Record<string, unknown>) {
    for (const f of fields) {
      const value = body[f.alias]
      if (value === undefined) continue
      if ((value === null || value === '') && body.overwriteWithBlank !== true) continue
      contact.fields[f.alias] =
        f.type === 'boolean' && typeof value === 'boolean'
          ? Number(value)
          : f.type === 'email' && typeof value === 'string'
            ? sanitizeEmail(value)
            : value
    }
    const t = body.tags
    for (const tag of typeof t === 'string' ? t.split(',') : Array.isArray(t) ? t : [])
      modifyTag(contact, String(tag))
  }

  /** DoNotContact::addDncForContact: a contact's own unsubscribe (1) is never overwritten. */
  function addDnc(
    contact: FakeContact,
    channel: string,
    reason: number,
    comments: string,
    channelId: number | null,
  ) {
    const existing = contact.dnc.find((d) => d.channel === channel)
    if (!existing) contact.dnc.push({ id: ++ids.dnc, channel, reason, comments, channelId })
    else if (existing.reason !== 1 && existing.reason !== reason)
      Object.assign(existing, { reason, comments })
  }

  const outId = (id: number) => (config.stringIds ? String(id) : id)

  /** The REST shape (LeadApiController serializer groups, plus `fields.all`). */
  function contactJson(c: FakeContact, deleted = false) {
    const all: Record<string, unknown> = { id: deleted ? null : outId(c.id) }
    const groups: Record<string, Record<string, unknown>> = {}
    for (const f of fields) {
      all[f.alias] = c.fields[f.alias] ?? null
      ;(groups[f.group] ??= {})[f.alias] = {
        id: String(f.id),
        label: f.label,
        alias: f.alias,
        type: f.type,
        group: f.group,
        object: 'lead',
        properties: f.properties,
        value: all[f.alias],
      }
    }
    return {
      isPublished: true,
      dateAdded: c.dateAdded,
      dateModified: iso(),
      id: deleted ? null : outId(c.id),
      points: 0,
      color: null,
      // An empty group is a PHP empty array, so `[]` in JSON.
      fields: { core: [], social: [], personal: [], professional: [], ...groups, all },
      lastActive: null,
      owner: null,
      ipAddresses: [],
      tags: c.tags.map((tag) => ({ id: tagId(tag), tag })),
      utmtags: [],
      stage: null,
      dateIdentified: c.dateAdded,
      preferredProfileImage: 'gravatar',
      doNotContact: c.dnc.map((d) => ({ ...d })),
      frequencyRules: [],
    }
  }

  /** A list keyed by id: an object, or `{}` when empty (EntityResultHelper). */
  const keyed = <T extends { id: number }>(items: T[], json: (t: T) => unknown) =>
    Object.fromEntries(items.map((i) => [String(i.id), json(i)]))

  function page<T>(items: T[], query: URLSearchParams): T[] {
    const start = Number(query.get('start') ?? 0)
    return items.slice(start, start + Number(query.get('limit') ?? 30)) // default_pagelimit 30
  }

  function authError(header: string | null): Response | undefined {
    if (header?.startsWith('Basic ')) {
      // ApiSubscriber: Basic credentials while Basic auth is off are refused before any check.
      if (!config.basicAuthEnabled)
        return err(403, 'Basic Auth is disabled. Enable it in API Settings.', 'access_denied')
      const decoded = new TextDecoder().decode(
        Uint8Array.from(atob(header.slice(6)), (ch) => ch.charCodeAt(0)),
      )
      return decoded === `${username}:${password}`
        ? undefined
        : err(401, 'Authorization denied, invalid credentials.', 'access_denied')
    }
    if (header?.startsWith('Bearer ')) {
      const expiry = tokens.get(header.slice(7))
      if (expiry === undefined)
        return err(401, 'The access token provided is invalid.', 'invalid_grant')
      if (expiry <= now())
        return err(401, 'The access token provided has expired.', 'invalid_grant')
      return undefined
    }
    return err(401, 'API authorization denied.', 'access_denied')
  }

  async function readBody(request: {
    headers: Headers
    text(): Promise<string>
  }): Promise<unknown> {
    const type = request.headers.get('content-type') ?? ''
    const text = await request.text()
    if (text === '') return undefined
    if (type.includes('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(text))
    try {
      return JSON.parse(text) as unknown
    } catch {
      return text
    }
  }

  interface Ctx {
    params: Record<string, string>
    query: URLSearchParams
    body: Record<string, unknown>
    contact: FakeContact | undefined
  }
  type Route = (ctx: Ctx) => Response | Promise<Response>

  /** Records, applies `down`/`failNext`, the API switch and auth, then answers. */
  function route(
    method: 'get' | 'post' | 'patch' | 'delete',
    path: string,
    answer: Route,
  ): HttpHandler {
    return http[method](`${base}${path}`, async ({ request, params }) => {
      const url = new URL(request.url)
      const body = await readBody(request)
      const relative = url.pathname.slice(basePath.length)
      requests.push({
        method: request.method,
        path: relative,
        query: url.searchParams,
        search: url.search,
        body,
        authorization: request.headers.get('authorization'),
      })
      if (isDown) return HttpResponse.error()
      const isApi = relative.startsWith('/api/')
      if (isApi && failures.length > 0) {
        const f = failures.shift()!
        if (f.failure === 'network') return HttpResponse.error()
        if (f.failure === 'timeout') await delay('infinite')
        const status = f.failure as number
        const res =
          f.body !== undefined
            ? HttpResponse.json(f.body, { status })
            : status === 429
              ? rateLimited()
              : err(status, failMessage(status))
        for (const [k, v] of Object.entries(f.headers ?? {})) res.headers.set(k, v)
        return res
      }
      if (isApi) {
        // ApiSubscriber runs before the firewall: a disabled API answers the same to everyone.
        if (!config.apiEnabled)
          return err(
            403,
            "API disabled. You need to enable the API in the API settings of Mautic's Configuration.",
            'api_disabled',
          )
        const denied = authError(request.headers.get('authorization'))
        if (denied) return denied
      }
      const id = Number(params.id)
      const res = await answer({
        params: params as Record<string, string>,
        query: url.searchParams,
        body: typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {},
        contact:
          path.startsWith('/api/contacts/:id') && Number.isInteger(id) ? resolve(id) : undefined,
      })
      if (isApi) res.headers.set('Mautic-Version', '5.1.1')
      return res
    })
  }

  /** Mautic's own wording for the statuses failNext is asked for (generic in prod for a 5xx). */
  const failMessage = (status: number) =>
    ({
      401: 'The access token provided is invalid.',
      403: 'You do not have access to the requested area/action.',
      404: 'Item was not found.',
    })[status] ??
    (status >= 500
      ? 'Looks like I encountered an error (error #500). If I do it again, please report me to the system administrator!'
      : 'This is a bad request.')

  const handlers: HttpHandler[] = [
    route('post', '/oauth/v2/token', ({ body }) => {
      const ok =
        authMode === 'oauth' &&
        body.grant_type === 'client_credentials' &&
        body.client_id === clientId &&
        body.client_secret === clientSecret
      if (!ok) return err(400, 'The client credentials are invalid', 'invalid_client')
      const token = `token-${crypto.randomUUID()}`
      const lifetime = opts.tokenLifetimeS ?? 3600
      tokens.set(token, now() + lifetime * 1000)
      return HttpResponse.json({
        access_token: token,
        expires_in: lifetime,
        token_type: 'bearer',
        scope: null,
      })
    }),

    route('get', '/api/contacts', ({ query }) => {
      if (query.has('search'))
        return badRequest(
          'mautic-fake: search= is a LIKE in Mautic and not faked; use where[0][expr]=eq',
        )
      let list = [...contacts.values()]
      for (let i = 0; query.has(`where[${i}][col]`); i++) {
        const col = query.get(`where[${i}][col]`)!
        const expr = query.get(`where[${i}][expr]`)
        // InputHelper::cleanArray: the value HTML-escaped before it reaches the query.
        const val = sanitizeSpecialChars(query.get(`where[${i}][val]`) ?? '')
        if (expr !== 'eq' && expr !== 'like')
          return badRequest(`mautic-fake: where expr "${expr}" is not faked`)
        const column = (c: FakeContact) => String(col === 'id' ? c.id : (c.fields[col] ?? ''))
        // MySQL's default *_ci collation: `eq` on a string ignores case.
        list = list.filter((c) =>
          expr === 'eq' ? column(c).toLowerCase() === val.toLowerCase() : like(column(c), val),
        )
      }
      list.sort((a, b) => a.id - b.id)
      if (query.get('orderByDir')?.toLowerCase() === 'desc') list.reverse()
      const total = config.stringIds ? String(list.length) : list.length
      return HttpResponse.json({ total, contacts: keyed(page(list, query), contactJson) })
    }),

    route('post', '/api/contacts/new', ({ body }) => {
      // LeadApiController::getNewEntity: a contact with the same e-mail is updated, 200 not 201.
      const email = typeof body.email === 'string' ? body.email.toLowerCase() : undefined
      const existing = email
        ? [...contacts.values()].find((c) => String(c.fields.email ?? '').toLowerCase() === email)
        : undefined
      const contact = existing ?? addContact({})
      setFields(contact, body)
      return HttpResponse.json({ contact: contactJson(contact) }, { status: existing ? 200 : 201 })
    }),

    route('get', '/api/contacts/:id', ({ contact }) =>
      contact ? HttpResponse.json({ contact: contactJson(contact) }) : notFound(),
    ),

    route('patch', '/api/contacts/:id/edit', ({ contact, body }) => {
      if (!contact) return notFound()
      setFields(contact, body)
      // Inline DNC (LeadApiController::preSaveEntity): reason 0 removes the channel's entry.
      for (const d of Array.isArray(body.doNotContact)
        ? (body.doNotContact as Record<string, unknown>[])
        : []) {
        const channel = String(d.channel ?? 'email')
        if (Number(d.reason) === 0) contact.dnc = contact.dnc.filter((x) => x.channel !== channel)
        else addDnc(contact, channel, Number(d.reason) || 3, String(d.comments ?? ''), null)
      }
      return HttpResponse.json({ contact: contactJson(contact) })
    }),

    route('delete', '/api/contacts/:id/delete', ({ contact }) => {
      if (!contact) return notFound()
      contacts.delete(contact.id)
      return HttpResponse.json({ contact: contactJson(contact, true) })
    }),

    route('post', '/api/contacts/:id/dnc/:channel/add', ({ contact, params, body }) => {
      if (!contact) return notFound()
      const reason = body.reason === undefined ? 3 : Math.trunc(Number(body.reason)) || 0
      if (reason <= 0)
        return badRequest('Invalid reason code given', [
          'Reason code needs to be an integer and higher than 0.',
        ])
      const channelId = body.channelId ? Number(body.channelId) : null
      addDnc(contact, params.channel!, reason, String(body.comments ?? ''), channelId)
      return HttpResponse.json({ contact: contactJson(contact) })
    }),

    route('post', '/api/contacts/:id/dnc/:channel/remove', ({ contact, params }) => {
      if (!contact) return notFound()
      const before = contact.dnc.length
      contact.dnc = contact.dnc.filter((d) => d.channel !== params.channel) // whatever the reason
      return HttpResponse.json({
        recordFound: contact.dnc.length < before,
        contact: contactJson(contact),
      })
    }),

    route('get', '/api/contacts/:id/segments', ({ contact }) => {
      if (!contact) return notFound()
      const lists = contact.segments.length === 0 ? [] : keyed(contact.segments, (s) => s)
      return HttpResponse.json({ total: contact.segments.length, lists })
    }),

    route('get', '/api/contacts/:id/activity', ({ contact, query }) => {
      if (!contact) return notFound()
      const limit = Number(query.get('limit') ?? 25)
      const events = contact.activity.slice(0, limit).map((e, i) => ({
        ...e,
        eventId: `${e.event}${i}`,
        eventType: e.event,
        contactId: contact.id,
      }))
      return HttpResponse.json({
        events,
        total: contact.activity.length,
        page: 1,
        limit,
        maxPages: 1,
      })
    }),

    route('post', '/api/emails/:id/contact/:contactId/send', ({ params, body }) => {
      const email = emails.get(Number(params.id))
      const contact = resolve(Number(params.contactId))
      if (!email || !contact) return notFound()
      // EmailApiController::cleanTokens: braces added to bare token names.
      const raw = (body.tokens ?? {}) as Record<string, unknown>
      const clean = Object.fromEntries(
        Object.entries(raw).map(([k, v]) => [/^\{.*\}$/.test(k) ? k : `{${k}}`, String(v)]),
      )
      sent.push({ emailId: email.id, contactId: contact.id, tokens: clean })
      return HttpResponse.json({ success: true })
    }),

    route('get', '/api/fields/contact', ({ query }) =>
      HttpResponse.json({ total: fields.length, fields: page(fields, query).map(fieldJson) }),
    ),

    route('post', '/api/fields/contact/new', ({ body }) => {
      const label = typeof body.label === 'string' ? body.label : ''
      if (label === '')
        return badRequest('label: A value is required.', { label: ['A value is required.'] })
      const type = String(body.type ?? 'text')
      const props = (body.properties ?? {}) as Record<string, unknown>
      // FormFieldHelper::validateProperties: a boolean needs both labels.
      if (type === 'boolean' && (!props.yes || !props.no))
        return badRequest('properties: Boolean fields need a "yes" and a "no" label.', {
          properties: ['mautic.lead.field.boolean.yesmissing'],
        })
      // FieldAliasHelper::makeAliasUnique: cleaned and cut to 25 characters (FormModel::cleanAlias),
      // then a number appended while it is taken (`alias1`, which may pass 25).
      const wanted = cleanAlias(String(body.alias || label), 25)
      let alias = wanted
      for (let n = 1; fields.some((f) => f.alias === alias); n++) alias = `${wanted}${n}`
      const field = addField({ alias, type, label, group: String(body.group ?? 'core') })
      field.properties = props
      return HttpResponse.json({ field: fieldJson(field) }, { status: 201 })
    }),

    route('get', '/api/tags', ({ query }) =>
      HttpResponse.json({
        total: tags.length,
        tags: page(tags, query).map((t) => ({ ...t, description: null })),
      }),
    ),

    route('post', '/api/tags/new', ({ body }) => {
      const tag = String(body.tag ?? '').trim()
      if (tag === '')
        return badRequest('tag: A value is required.', { tag: ['A value is required.'] })
      return HttpResponse.json({ tag: { id: tagId(tag), tag, description: null } }, { status: 201 })
    }),

    route('get', '/api/hooks', ({ query }) =>
      HttpResponse.json({
        total: webhooks.length,
        // hookDetails (the secret included) and publishDetails (isPublished).
        hooks: keyed(page(webhooks, query), hookJson),
      }),
    ),

    route('post', '/api/hooks/new', ({ body }) => {
      const triggers = Array.isArray(body.triggers) ? body.triggers.map(String) : []
      if (!body.name || !body.webhookUrl || triggers.length === 0)
        return badRequest('name, webhookUrl and triggers are required.', {})
      const hook: FakeWebhook = {
        id: ++ids.hook,
        name: String(body.name),
        description: String(body.description ?? ''),
        webhookUrl: String(body.webhookUrl),
        secret: String(body.secret ?? crypto.randomUUID()),
        triggers,
        isPublished: body.isPublished !== false,
        dateModified: now(),
      }
      webhooks.push(hook)
      return HttpResponse.json({ hook: hookJson(hook) }, { status: 201 })
    }),

    route('patch', '/api/hooks/:id/edit', ({ params, body }) => {
      const hook = webhooks.find((h) => h.id === Number(params.id))
      if (!hook) return notFound()
      if (body.isPublished !== undefined) hook.isPublished = body.isPublished !== false
      if (typeof body.secret === 'string') hook.secret = body.secret
      if (typeof body.webhookUrl === 'string') hook.webhookUrl = body.webhookUrl
      if (Array.isArray(body.triggers)) hook.triggers = body.triggers.map(String)
      hook.dateModified = now()
      return HttpResponse.json({ hook: hookJson(hook) })
    }),

    route('delete', '/api/hooks/:id/delete', ({ params }) => {
      const i = webhooks.findIndex((h) => h.id === Number(params.id))
      if (i < 0) return notFound()
      const [hook] = webhooks.splice(i, 1)
      return HttpResponse.json({ hook: { ...hookJson(hook!), id: null } })
    }),
  ]

  /**
   * A delivery as Mautic makes it (WebhookBundle/Http/Client.php, WebhookModel::processWebhook): only
   * a published webhook sends; the body is POSTed with `Webhook-Signature` = base64(HMAC-SHA256 of the
   * body with the webhook's secret); then a 410 unpublishes the webhook at once, and any other non-2xx
   * does when none of the last 100 logged deliveries got a 2xx and it was not edited within 2 days
   * (`isSick`, `webhook_disable_limit`). Returns the status, or null when nothing was sent.
   */
  async function deliver(
    hookId: number,
    body: string,
    send: (url: string, init: RequestInit) => Response | Promise<Response>,
  ): Promise<number | null> {
    const hook = webhooks.find((h) => h.id === hookId)
    if (!hook || !hook.isPublished) return null
    const enc = new TextEncoder()
    const key = await crypto.subtle.importKey(
      'raw',
      enc.encode(hook.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    )
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)))
    const res = await send(hook.webhookUrl, {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'X-Origin-Base-URL': base,
        'Webhook-Signature': btoa(String.fromCharCode(...mac)),
      },
    })
    const log = (hook.log ??= [])
    log.push(res.status)
    const ok = res.status >= 200 && res.status < 300
    if (res.status === 410) hook.isPublished = false
    else if (!ok) {
      const last = log.slice(-100)
      const recentlyEdited = now() - (hook.dateModified ?? 0) < 2 * 86_400_000
      if (last.length >= 100 && !last.some((st) => st >= 200 && st < 300) && !recentlyEdited)
        hook.isPublished = false
    }
    return res.status
  }

  function hookJson({ log: _log, dateModified: _modified, ...hook }: FakeWebhook) {
    return { ...hook, eventsOrderbyDir: null, category: null }
  }

  /** LeadField::loadApiMetadata's properties, as the list and the detail both serve them. */
  function fieldJson(f: FakeField) {
    return {
      isPublished: true,
      dateAdded: null,
      createdBy: null,
      id: outId(f.id),
      label: f.label,
      alias: f.alias,
      type: f.type,
      group: f.group,
      order: f.order,
      object: 'lead',
      defaultValue: f.alias === 'points' ? '0' : null,
      isRequired: false,
      isFixed: f.fixed,
      isListable: true,
      isVisible: true,
      isShortVisible: ['firstname', 'lastname', 'email'].includes(f.alias),
      isUniqueIdentifier: f.alias === 'email',
      isPubliclyUpdatable: false,
      properties: f.properties,
    }
  }

  reset()
  const connection: MauticConnection =
    authMode === 'oauth' ? { url: base, clientId, clientSecret } : { url: base, username, password }
  return {
    baseUrl: base,
    handlers,
    /** For `createMauticClient(fake.connection)`. */
    connection,
    /** For `parseConfig`/`testApp`: MAUTIC_URL and the matching credentials. */
    env:
      authMode === 'oauth'
        ? { MAUTIC_URL: base, MAUTIC_CLIENT_ID: clientId, MAUTIC_CLIENT_SECRET: clientSecret }
        : { MAUTIC_URL: base, MAUTIC_USERNAME: username, MAUTIC_PASSWORD: password },
    contacts,
    fields,
    tags,
    webhooks,
    emails,
    requests,
    sent,
    /** Switches, restored by reset(): the API on/off, Basic auth on/off, ids sent as strings (older Mautic). */
    config,
    addContact,
    addField,
    addEmail,
    merge,
    /** The contact an id leads to now (following merges), if any. */
    contact: resolve,
    deliver,
    /** The next `n` API requests (not token requests) fail: a status (with Mautic's error body, or `body`), a timeout or a network error. */
    failNext(n: number, failure: FakeFailure, body?: unknown, headers?: Record<string, string>) {
      for (let i = 0; i < n; i++) failures.push({ failure, body, headers })
    },
    /** Mautic answers again: the failures still queued by failNext are dropped (its data stays). */
    recover() {
      failures.length = 0
      isDown = false
    },
    /** While down, every request (token requests too) fails with a network error. */
    down(value = true) {
      isDown = value
    },
    /** Every token issued so far is now expired (Mautic answers 401 invalid_grant). */
    expireTokens() {
      for (const token of tokens.keys()) tokens.set(token, 0)
    },
    /** Requests with this method and path (exact, or a RegExp). */
    calls(method: string, path: string | RegExp) {
      return requests.filter(
        (r) =>
          r.method === method && (typeof path === 'string' ? r.path === path : path.test(r.path)),
      )
    },
    reset,
  }
}

export type MauticFake = ReturnType<typeof mauticFake>

/**
 * For a test file: the fake behind its own msw server (`onUnhandledRequest: 'error'`), listening for
 * the whole file, its state and any `server.use()` overrides reset before each test. To combine it
 * with other mocked APIs, pass their handlers as `extra`, or put `fake.handlers` in your own server.
 */
export function useMautic(
  baseUrl?: string,
  opts?: MauticFakeOptions,
  ...extra: HttpHandler[]
): MauticFake & { server: ReturnType<typeof setupServer> } {
  const fake = mauticFake(baseUrl, opts)
  const server = setupServer(...fake.handlers, ...extra)
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
  beforeEach(() => {
    server.resetHandlers()
    fake.reset()
  })
  afterAll(() => server.close())
  return Object.assign(fake, { server })
}
