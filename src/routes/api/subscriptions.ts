/** @module POST /api/v1/subscriptions: consent captured by a website or tool, with its evidence. */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { subscribe } from '../../domain/consent/subscriptions.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { isLocale } from '../../lib/i18n.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import {
  BadInput,
  badInputResponse,
  optionalString,
  readJsonObject,
  requiredString,
} from './json.ts'

const MAX_PURPOSES = 50
const MAX_ATTRIBUTES = 50

export function subscriptionRoutes(deps: Deps) {
  return new Hono().post('/', apiKeyAuth(deps, 'subscribe'), async (c) => {
    let input
    try {
      const body = await readJsonObject(c)
      input = {
        email: requiredString(body, 'email', 254),
        purposes: purposeList(body.purposes),
        locale: localeOf(body.locale),
        source: optionalString(body, 'source', 500),
        evidence: evidenceOf(body.evidence),
        attributes: attributesOf(body.attributes),
      }
    } catch (err) {
      return badInputResponse(c, err)
    }
    const key = c.get('apiKey')!
    const result = await subscribe(deps, {
      ...input,
      method: 'api',
      source: input.source ?? `api:${key.name}`,
      actor: `api:${key.name}`,
    })
    if (!result.ok) return jsonError(c, 400, result.code, result.message)
    c.set('outboxPending', result.confirmation === 'sent')
    return c.json(
      {
        contact_id: result.contactId,
        purposes: result.purposes,
        confirmation: result.confirmation,
      },
      202,
    )
  })
}

function purposeList(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((k) => typeof k !== 'string' || k.length > 64))
    throw new BadInput('invalid_purposes', 'purposes must be a non-empty array of purpose keys')
  if (v.length > MAX_PURPOSES)
    throw new BadInput('invalid_purposes', `at most ${MAX_PURPOSES} purposes`)
  return v as string[]
}

function localeOf(v: unknown) {
  if (v === undefined || v === null) return 'fr' as const
  if (!isLocale(v)) throw new BadInput('invalid_locale', 'locale must be "fr" or "en"')
  return v
}

/** Evidence the caller saw: the subject's IP and user agent, and where and how consent was given. */
function evidenceOf(v: unknown): Record<string, unknown> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v))
    throw new BadInput('invalid_evidence', 'evidence must be an object')
  const e = v as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [field, max] of [
    ['ip', 64],
    ['user_agent', 1000],
    ['page_url', 2000],
    ['form', 200],
  ] as const) {
    const s = optionalString(e, field, max)
    if (s !== undefined) out[field] = s
  }
  if (e.shown_unticked !== undefined) {
    if (typeof e.shown_unticked !== 'boolean')
      throw new BadInput('invalid_evidence', 'evidence.shown_unticked must be a boolean')
    out.shown_unticked = e.shown_unticked
  }
  return out
}

function attributesOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v))
    throw new BadInput('invalid_attributes', 'attributes must be an object')
  const entries = Object.entries(v)
  if (entries.length > MAX_ATTRIBUTES)
    throw new BadInput('invalid_attributes', `at most ${MAX_ATTRIBUTES} attributes`)
  for (const [k, val] of entries)
    if (!/^[A-Za-z0-9_]{1,64}$/.test(k) || typeof val !== 'string' || val.length > 1000)
      throw new BadInput(
        'invalid_attributes',
        `attribute "${k.slice(0, 64)}" must be a string of at most 1000 characters with a name of letters, digits and _`,
      )
  return v as Record<string, string>
}
