/**
 * @module /api/v1/purposes: what a website needs to build its own consent form (every purpose with its
 * current wording per locale), and, for admin keys, adding purposes and publishing notice versions.
 */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { createPurpose, publishNotice } from '../../domain/consent/purpose-admin.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
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

const CHANNELS = ['email', 'sms', 'push', 'web', 'app', 'data'] as const
const BASES = ['consent', 'legitimate_interest'] as const

export function purposeRoutes(deps: Deps) {
  return new Hono()
    .get('/', apiKeyAuth(deps, 'subscribe'), async (c) => {
      const purposes = await loadPurposes(deps.db, deps.clock.now())
      return c.json({
        purposes: [...purposes.values()].map((p) => ({
          key: p.key,
          channel: p.channel,
          legal_basis: p.legalBasis,
          double_opt_in: p.doubleOptIn,
          max_consent_age_days: p.maxConsentAgeDays,
          notices: Object.fromEntries(
            Object.entries(p.current).map(([locale, n]) => [
              locale,
              {
                id: n.id,
                version: n.version,
                title: n.title,
                text: n.body,
                privacy_url: n.privacy_url,
                content_hash: n.content_hash,
              },
            ]),
          ),
        })),
      })
    })
    .post('/', apiKeyAuth(deps, 'admin'), async (c) => {
      let input
      try {
        const body = await readJsonObject(c)
        input = {
          key: requiredString(body, 'key', 64),
          channel: oneOf(body, 'channel', CHANNELS),
          legalBasis: oneOf(body, 'legal_basis', BASES),
          doubleOptIn: body.double_opt_in === true,
          maxConsentAgeDays: positiveIntOrNull(body.max_consent_age_days),
        }
      } catch (err) {
        return badInputResponse(c, err)
      }
      const result = await createPurpose(deps, input)
      if (!result.ok)
        return jsonError(
          c,
          result.code === 'purpose_exists' ? 409 : 400,
          result.code,
          result.message,
        )
      return c.json({ key: input.key }, 201)
    })
    .post('/:key/notices', apiKeyAuth(deps, 'admin'), async (c) => {
      let input
      try {
        const body = await readJsonObject(c)
        if (!isLocale(body.locale))
          throw new BadInput('invalid_locale', 'locale must be "fr" or "en"')
        const privacyUrl = optionalString(body, 'privacy_url', 2000) ?? ''
        if (privacyUrl && !/^https?:\/\//.test(privacyUrl))
          throw new BadInput('invalid_privacy_url', 'privacy_url must be an http(s) URL')
        input = {
          purposeKey: c.req.param('key'),
          locale: body.locale,
          title: requiredString(body, 'title', 200),
          body: requiredString(body, 'text', 5000),
          privacyUrl,
          requiresReconsent: body.requires_reconsent === true,
        }
      } catch (err) {
        return badInputResponse(c, err)
      }
      const result = await publishNotice(deps, input)
      if (!result.ok)
        return jsonError(
          c,
          result.code === 'unknown_purpose' ? 404 : 409,
          result.code,
          result.message,
        )
      return c.json(
        { id: result.id, version: result.version, content_hash: result.contentHash },
        201,
      )
    })
}

function oneOf<T extends string>(
  body: Record<string, unknown>,
  field: string,
  allowed: readonly T[],
): T {
  const v = body[field]
  if (typeof v !== 'string' || !allowed.includes(v as T))
    throw new BadInput(`invalid_${field}`, `${field} must be one of ${allowed.join(', ')}`)
  return v as T
}

function positiveIntOrNull(v: unknown): number | null {
  if (v === undefined || v === null) return null
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 36500)
    throw new BadInput(
      'invalid_max_consent_age_days',
      'max_consent_age_days must be a whole number of days',
    )
  return v as number
}
