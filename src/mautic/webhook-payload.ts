/**
 * @module Mautic's webhook body as it really arrives (docs/mautic.md §1.2), parsed tolerantly into
 * one `MauticEvent` per element: one `JSON.parse`, then a single walk with no regexes and no copies
 * (the route parses every body, and its throughput target is a share of a bare Hono endpoint's).
 * Pure code: no I/O, no runtime APIs, so it runs on Node and Workers alike.
 */
import { toHex, utf8, type Bytes } from '../lib/encoding.ts'
import type { MauticDnc } from './types.ts'

/** The body is not JSON, or not a JSON object: the route answers 400. */
export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WebhookPayloadError'
  }
}

export type FieldValue = string | number | boolean | null

/** A DNC entry, the same shape as the REST client's (reasons: 1 unsubscribed, 2 bounced, 3 manual). */
export type ParsedDnc = MauticDnc

export interface ParsedContact {
  /** null for the contact of `lead_post_delete` (Mautic nulls it; the id is at the top level). */
  id: number | null
  /** `fields.core.email.value`, else the top-level `email` of `email_on_send`; trimmed, '' → null. */
  email: string | null
  /** alias → value over every group, from either field shape; '' → null. */
  fields: Record<string, FieldValue>
  tags: string[]
  doNotContact: ParsedDnc[]
  ipAddresses: string[]
  /** epoch ms */
  dateModified: number | null
}

export interface ParsedSubmission {
  id: number | null
  formId: number | null
  formAlias: string | null
  formName: string | null
  ip: string | null
  referer: string | null
  trackingId: string | null
  submittedAt: number | null
  pageId: number | null
  /** field alias → submitted value (the consent checkbox among them). */
  results: Record<string, string>
}

export interface ParsedEmailSend {
  emailId: number | null
  categoryId: number | null
  categoryAlias: string | null
  /** `["campaign.event", 12]`, `["email", 3]`, `["api", 0]`… */
  source: [string, number | null] | null
  subject: string | null
  /** Inferred from `headers`, since Mautic sends no flag: see `isTransactional`. null when unknown. */
  isTransactional: boolean | null
}

export interface MauticEvent {
  /** The envelope key, e.g. `mautic.lead_post_save_update`. */
  type: string
  /** One of the 14 types Mautic 5 registers (research §1.1); unknown ones are kept, for the log. */
  known: boolean
  /** Position of the element in the body, counting every element of every list in document order. */
  index: number
  /** The element's `timestamp` (the queue row's `dateAdded`), epoch ms. */
  timestamp: number | null
  /** The contact's Mautic id; for `lead_post_delete` the top-level `id`. */
  mauticId: number | null
  contact: ParsedContact | null
  channelChange?: { channel: string; oldStatus: string; newStatus: string }
  submission?: ParsedSubmission
  emailSend?: ParsedEmailSend
  /** The element as parsed (not copied). */
  raw: unknown
}

/**
 * The events `mautic connect` subscribes to and the intake processes (from the outbox); Mautic sends
 * nothing it was not asked for.
 */
export const WEBHOOK_TRIGGERS = [
  'mautic.lead_post_save_new',
  'mautic.lead_post_save_update',
  'mautic.lead_post_delete',
  'mautic.lead_channel_subscription_changed',
  'mautic.form_on_submit',
  'mautic.email_on_send',
] as const

export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  ...WEBHOOK_TRIGGERS,
  'mautic.lead_points_change',
  'mautic.lead_company_change',
  'mautic.lead_list_change',
  'mautic.company_post_save',
  'mautic.company_post_delete',
  'mautic.email_on_open',
  'mautic.page_on_hit',
  'mautic.sms_on_send',
])

type Obj = Record<string, unknown>

/**
 * PHP's `json_encode` turns an empty associative array into `[]`, and Mautic decodes and re-encodes
 * every queued payload, so any empty object may arrive as `[]`: both count as "an object" here.
 */
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null

/** Only the object-shaped case; `[]` (an empty PHP array) is treated like a missing object. */
const asObj = (v: unknown): Obj | null => (isObj(v) && !Array.isArray(v) ? v : null)

/** '' and non-strings → null (Mautic sends both `""` and `null` for "empty"). */
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null)

/** Mautic sends ids as ints from entities and as strings from DBAL rows (`"id":"6"`). */
function toInt(v: unknown, min: number): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= min ? v : null
  if (typeof v !== 'string' || v.length === 0 || v.length > 16) return null
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c < 48 || c > 57) return null
  }
  const n = Number(v)
  return Number.isSafeInteger(n) && n >= min ? n : null
}
const toId = (v: unknown): number | null => toInt(v, 1)

/**
 * Mautic's dates are PHP `'c'` (`2025-03-14T09:26:54+00:00`). A zone-less `Y-m-d H:i:s` (how
 * Mautic stores datetime field values, in UTC) is read as UTC, never in the server's zone.
 */
function toMs(v: unknown): number | null {
  if (typeof v !== 'string' || v.length < 10) return null
  const ms = Date.parse(v.length === 19 ? v.slice(0, 10) + 'T' + v.slice(11) + 'Z' : v)
  return Number.isNaN(ms) ? null : ms
}

function fieldValue(v: unknown): FieldValue | undefined {
  if (v === '' || v === null || v === undefined) return null
  const t = typeof v
  if (t === 'string' || t === 'number' || t === 'boolean') return v as FieldValue
  // A multiselect held in memory as a list; Mautic stores it pipe-joined (`"php|js"`).
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) {
    return v.length === 0 ? null : v.join('|')
  }
  return undefined
}

/**
 * `fields` is `{core:{alias:{…, value}}, social:{…}, personal:[], professional:[]}` with either field
 * shape (in-memory `{id:int, …, properties:{}, value}` or DB-loaded `{id:"6", …, properties:"a:0:{}",
 * value}`): only `alias` and `value` are read, so the PHP-serialised `properties` is never touched.
 * Webhooks carry no `fields.all` (REST adds it); when present it only fills aliases still missing.
 */
function flattenFields(fields: unknown, out: Record<string, FieldValue>): void {
  if (!isObj(fields)) return
  for (const group in fields) {
    if (group === 'all') continue
    const entries = fields[group]
    if (!isObj(entries)) continue
    for (const key in entries) {
      const entry = entries[key]
      let alias = key
      let value: FieldValue | undefined
      if (isObj(entry) && !Array.isArray(entry)) {
        if (typeof entry.alias === 'string' && entry.alias !== '') alias = entry.alias
        value = fieldValue(entry.value)
      } else value = fieldValue(entry)
      if (value !== undefined && alias !== '__proto__') out[alias] = value
    }
  }
  const all = asObj(fields.all)
  if (all) for (const alias in all) if (!Object.hasOwn(out, alias)) setField(out, alias, all[alias])
}

function setField(out: Record<string, FieldValue>, alias: string, v: unknown): void {
  const value = fieldValue(v)
  if (value !== undefined && alias !== '__proto__') out[alias] = value
}

/** `email_on_send` carries the contact's core fields at its top level too (research §1.2). */
const TOP_LEVEL_FIELDS = [
  'title',
  'firstname',
  'lastname',
  'company',
  'position',
  'email',
  'phone',
  'mobile',
  'address1',
  'address2',
  'city',
  'state',
  'zipcode',
  'timezone',
  'country',
]

function parseContact(v: unknown): ParsedContact | null {
  const c = asObj(v)
  if (!c) return null
  const fields: Record<string, FieldValue> = {}
  flattenFields(c.fields, fields)
  for (const alias of TOP_LEVEL_FIELDS) {
    if ((fields[alias] ?? null) === null && Object.hasOwn(c, alias))
      setField(fields, alias, c[alias])
  }
  const email = fields.email
  const trimmed = typeof email === 'string' ? email.trim() : ''
  return {
    id: toId(c.id),
    email: trimmed === '' ? null : trimmed,
    fields,
    tags: parseTags(c.tags),
    doNotContact: parseDnc(c.doNotContact),
    ipAddresses: parseIps(c.ipAddresses),
    dateModified: toMs(c.dateModified),
  }
}

/** `[{id, tag, description}]`; events serialised without the tagList group send `[[],…]`. */
function parseTags(v: unknown): string[] {
  const tags: string[] = []
  if (!Array.isArray(v)) return tags
  for (const t of v) {
    const name = typeof t === 'string' ? t : isObj(t) ? t.tag : null
    if (typeof name === 'string' && name !== '') tags.push(name)
  }
  return tags
}

/** `[{id, reason, comments, channel, channelId}]`; reason 0 (contactable) is not an entry. */
function parseDnc(v: unknown): ParsedDnc[] {
  const out: ParsedDnc[] = []
  if (!Array.isArray(v)) return out
  for (const d of v) {
    if (!isObj(d) || typeof d.channel !== 'string' || d.channel === '') continue
    const reason = toInt(d.reason, 1)
    if (reason !== 1 && reason !== 2 && reason !== 3) continue
    out.push({
      channel: d.channel,
      reason,
      comments: str(d.comments),
      channelId: toInt(d.channelId, 0),
    })
  }
  return out
}

/**
 * The address is `ipAddress` in 5.x and `ip` in older payloads (the 2017 `lead_post_delete.json`
 * asset): IpAddress::loadApiMetadata lists it as `ip`, then adds it again under its own name, and
 * 5.x's ApiMetadataDriver::addProperty lets the second call reset the serialised name.
 */
function ipOf(v: unknown): string | null {
  if (typeof v === 'string') return str(v.trim())
  const o = asObj(v)
  if (!o) return null
  const ip = typeof o.ipAddress === 'string' ? o.ipAddress : o.ip
  return typeof ip === 'string' ? str(ip.trim()) : null
}

function parseIps(v: unknown): string[] {
  const out: string[] = []
  if (!Array.isArray(v)) return out
  for (const ip of v) {
    const s = ipOf(ip)
    if (s !== null) out.push(s)
  }
  return out
}

function parseSubmission(v: unknown): ParsedSubmission | undefined {
  const s = asObj(v)
  if (!s) return undefined
  const form = asObj(s.form)
  const results: Record<string, string> = {}
  const r = asObj(s.results)
  if (r) {
    for (const k in r) {
      const x = r[k]
      if (k === '__proto__') continue
      if (typeof x === 'string') results[k] = x
      else if (typeof x === 'number' || typeof x === 'boolean') results[k] = String(x)
      else if (x === null) results[k] = ''
      else if (Array.isArray(x)) results[k] = x.join(', ')
    }
  }
  return {
    id: toId(s.id),
    formId: toId(form?.id),
    formAlias: str(form?.alias),
    formName: str(form?.name),
    ip: ipOf(s.ipAddress),
    referer: str(s.referer),
    trackingId: str(s.trackingId),
    submittedAt: toMs(s.dateSubmitted),
    pageId: toId(asObj(s.page)?.id),
    results,
  }
}

/**
 * Mautic has no "transactional" flag on the e-mail: it is a per-send option. But since 5.0
 * `MailHelper::getCustomHeaders()` adds `List-Unsubscribe-Post` to every non-transactional send
 * with an e-mail entity, and that is what `headers` holds. Without it and without any
 * `List-Unsubscribe` the send was transactional; a bare `List-Unsubscribe` (Mautic 4, or a custom
 * header) says nothing either way.
 */
function isTransactional(headers: unknown): boolean | null {
  const h = asObj(headers)
  if (!h) return Array.isArray(headers) ? true : null
  if ('List-Unsubscribe-Post' in h) return false
  return 'List-Unsubscribe' in h ? null : true
}

function parseEmailSend(el: Obj): ParsedEmailSend {
  const email = asObj(el.email)
  const category = asObj(email?.category)
  const src = el.source
  const source: [string, number | null] | null =
    Array.isArray(src) && typeof src[0] === 'string' ? [src[0], toInt(src[1], 0)] : null
  return {
    emailId: toId(email?.id),
    categoryId: toId(category?.id),
    categoryAlias: str(category?.alias),
    source,
    subject: str(el.subject) ?? str(email?.subject),
    isTransactional: isTransactional(el.headers),
  }
}

/** Where each type keeps its contact: the form's `submission.lead`, an open's `stat.lead`… */
function contactOf(type: string, el: Obj): unknown {
  switch (type) {
    case 'mautic.form_on_submit':
      return asObj(el.submission)?.lead
    case 'mautic.email_on_open':
      return asObj(el.stat)?.lead
    case 'mautic.page_on_hit':
      return asObj(el.hit)?.lead
    case 'mautic.company_post_save':
    case 'mautic.company_post_delete':
      return null
    default:
      // Mautic 2.x sent the contact as `lead` as well as `contact`.
      return el.contact ?? el.lead
  }
}

function parseElement(type: string, el: Obj, index: number): MauticEvent {
  const contact = parseContact(contactOf(type, el))
  const event: MauticEvent = {
    type,
    known: KNOWN_EVENT_TYPES.has(type),
    index,
    timestamp: toMs(el.timestamp),
    mauticId: contact?.id ?? null,
    contact,
    raw: el,
  }
  if (type === 'mautic.lead_post_delete') event.mauticId = toId(el.id) ?? event.mauticId
  else if (type === 'mautic.lead_channel_subscription_changed') {
    if (typeof el.channel === 'string' && typeof el.new_status === 'string') {
      const oldStatus = typeof el.old_status === 'string' ? el.old_status : ''
      event.channelChange = { channel: el.channel, oldStatus, newStatus: el.new_status }
    }
  } else if (type === 'mautic.form_on_submit') {
    const submission = parseSubmission(el.submission)
    if (submission) event.submission = submission
  } else if (type === 'mautic.email_on_send') event.emailSend = parseEmailSend(el)
  return event
}

/**
 * The event as the gateway uses it, without `raw` (and its place in the body): about a sixth of the
 * element's size, so it is what the outbox keeps (encrypted) and what the receipt key hashes for the
 * types the gateway processes — every field, tag, DNC entry and value is in it.
 */
export function compactEvent(event: MauticEvent): string {
  const { raw: _raw, index: _index, ...rest } = event
  return JSON.stringify(rest)
}

/** The inverse of {@link compactEvent}, for the outbox handler. */
export function parseCompactEvent(json: string): MauticEvent {
  return { ...(JSON.parse(json) as Omit<MauticEvent, 'raw' | 'index'>), raw: null, index: 0 }
}

/**
 * Mautic's real payloads nest a dozen levels at most (a contact, its field groups, a field, its
 * properties); JSON.stringify, the receipt key and the field walk all recurse, so anything deeper is
 * refused before it is parsed (a signed body nested 20,000 levels deep overflowed the stack).
 */
export const MAX_JSON_DEPTH = 64

/**
 * The deepest nesting of `[` and `{` in a JSON text, counted on its bytes outside strings, stopping
 * as soon as `limit` is passed (so its cost is one pass at most, with no recursion).
 */
export function jsonDepthExceeds(body: Bytes, limit: number = MAX_JSON_DEPTH): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!
    if (inString) {
      if (b === 0x5c)
        i++ // backslash: the next byte is escaped
      else if (b === 0x22) inString = false
    } else if (b === 0x22) inString = true
    else if (b === 0x5b || b === 0x7b) {
      if (++depth > limit) return true
    } else if (b === 0x5d || b === 0x7d) depth--
  }
  return false
}

/** A body as Mautic sends it: its events, or a "Send test payload" (nothing in it is real). */
export interface MauticDelivery {
  /**
   * Mautic's "Send test payload" button (WebhookBundle/Controller/AjaxController::sendHookTestAction)
   * posts the static sample files of each bundle (`Assets/WebhookPayload/*.json`: contact 52,
   * `john@doe.name`, 2017 dates), signed with the form's secret, plus a top-level `timestamp` that a
   * real delivery never has (WebhookModel::getWebhookPayload groups the events by type and nothing
   * else). Its events must change nothing.
   */
  test: boolean
  /** The event types the body names (the test payload's, for its log line). */
  types: string[]
  events: MauticEvent[]
}

/**
 * `{ "<type>": [element, …], "<other type>": […] }`: one body can hold several types (queue mode
 * sends up to 10 events per POST, grouped by type). A key whose value is not a list is skipped.
 * @throws WebhookPayloadError when the body is not JSON or not a JSON object.
 */
export function parseMauticDelivery(body: string): MauticDelivery {
  let doc: unknown
  try {
    doc = JSON.parse(body)
  } catch {
    throw new WebhookPayloadError('the body is not JSON')
  }
  if (!isObj(doc) || Array.isArray(doc)) {
    throw new WebhookPayloadError('the body is not a JSON object of event lists')
  }
  const test = typeof doc.timestamp === 'string'
  const types = Object.keys(doc).filter((k) => k !== 'timestamp')
  if (test) return { test, types, events: [] }
  const events: MauticEvent[] = []
  let index = 0
  for (const type in doc) {
    const list = doc[type]
    if (!Array.isArray(list)) continue
    for (const el of list) {
      // Elements are objects; anything else carries no event but keeps its place in `index`.
      if (isObj(el) && !Array.isArray(el)) events.push(parseElement(type, el, index))
      index++
    }
  }
  return { test, types, events }
}

/**
 * The events of a body (see parseMauticDelivery; a test payload has none).
 * @throws WebhookPayloadError when the body is not JSON or not a JSON object.
 * @example const events = parseMauticWebhook(await c.req.text())
 */
export function parseMauticWebhook(body: string): MauticEvent[] {
  return parseMauticDelivery(body).events
}

/** Hex characters of the digest kept: 96 bits, ample since the readable prefix already splits keys. */
const DIGEST_HEX = 24
const MAX_KEY = 80

/**
 * A short idempotency key for one element (≤ 80 chars), since Mautic sends no delivery id:
 * `<type without "mautic.">:<mauticId|->:<timestamp in s|->:<24 hex of SHA-256>`.
 * - type: one DNC change yields both a channel change and a save_update for the same contact and
 *   second; the type keeps them apart (and reads well in the receipts table).
 * - mauticId: a queue-mode batch holds many contacts' events stamped the same second.
 * - timestamp (seconds: PHP `'c'` has no finer part): the same contact changing again later.
 * - digest of `type + JSON.stringify(raw)`: any other difference (a field, a tag, a DNC comment).
 *   Hashing the parsed element, not the bytes, gives the same key to the same element however it
 *   was escaped; Mautic's duplicate save_updates for one change (research §8.4) share a key, which
 *   is what de-duplication wants. The digest covers the whole prefix, so clipping an over-long
 *   unknown type loses nothing.
 * @example await receiptKey(event, async (d) => new Uint8Array(await crypto.subtle.digest('SHA-256', d)))
 */
export async function receiptKey(
  event: MauticEvent,
  sha256: (data: Bytes) => Uint8Array | Promise<Uint8Array>,
  /** What to hash instead of `JSON.stringify(raw)`, when the caller already serialised the element. */
  serialized?: string,
): Promise<string> {
  const type = event.type.startsWith('mautic.') ? event.type.slice(7) : event.type
  const ts = event.timestamp === null ? '-' : String(Math.floor(event.timestamp / 1000))
  const prefix = `${type}:${event.mauticId ?? '-'}:${ts}:`
  const digest = await sha256(utf8(event.type + '\n' + (serialized ?? JSON.stringify(event.raw))))
  const hex = toHex(digest.subarray(0, DIGEST_HEX / 2))
  return prefix.slice(0, MAX_KEY - DIGEST_HEX) + hex
}
