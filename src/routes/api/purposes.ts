/**
 * @module /api/v1/purposes: what a website needs to build its own consent form (every purpose with its
 * current wording per locale), and, for admin keys, adding purposes and publishing notice versions.
 */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { createPurpose, publishNotice } from '../../domain/consent/purpose-admin.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, LocaleSchema, scoped } from './schemas.ts'
import { documentedBody, jsonBody, required } from './validate.ts'

const CHANNELS = ['email', 'sms', 'push', 'web', 'app', 'data'] as const
const BASES = ['consent', 'legitimate_interest'] as const

const requiredText = (field: string, max: number) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.maxLength(max, `${field} must be at most ${max} characters`),
    required(field),
  )
const oneOf = <T extends string>(field: string, allowed: readonly T[]) =>
  v.picklist(allowed, `${field} must be one of ${allowed.join(', ')}`)

const PurposeBody = v.object({
  key: v.pipe(
    requiredText('key', 64),
    v.description('2 to 64 lower-case letters, digits or _, starting with a letter'),
  ),
  channel: oneOf('channel', CHANNELS),
  legal_basis: oneOf('legal_basis', BASES),
  double_opt_in: v.optional(v.boolean('double_opt_in must be true or false')),
  max_consent_age_days: v.nullish(
    v.pipe(
      v.number('max_consent_age_days must be a whole number of days'),
      v.integer('max_consent_age_days must be a whole number of days'),
      v.minValue(1, 'max_consent_age_days must be a whole number of days'),
      v.maxValue(36500, 'max_consent_age_days must be a whole number of days'),
    ),
  ),
})

const NoticeBody = v.object({
  locale: LocaleSchema,
  privacy_url: v.nullish(
    v.pipe(
      v.string('privacy_url must be a string'),
      v.maxLength(2000, 'privacy_url must be at most 2000 characters'),
      v.regex(/^(https?:\/\/.*)?$/, 'privacy_url must be an http(s) URL'),
    ),
  ),
  title: requiredText('title', 200),
  text: requiredText('text', 5000),
  requires_reconsent: v.optional(v.boolean('requires_reconsent must be true or false')),
  reconsent_grace_days: v.optional(
    v.pipe(
      v.number('reconsent_grace_days must be a whole number of days from 0 to 365'),
      v.integer('reconsent_grace_days must be a whole number of days from 0 to 365'),
      v.minValue(0, 'reconsent_grace_days must be a whole number of days from 0 to 365'),
      v.maxValue(365, 'reconsent_grace_days must be a whole number of days from 0 to 365'),
      v.description(
        'With requires_reconsent: days older consents still pass the gate while their holders are mailed (default RECONSENT_GRACE_DAYS, 30)',
      ),
    ),
  ),
})

const NoticeView = v.object({
  id: v.string(),
  version: v.number(),
  title: v.string(),
  text: v.string(),
  privacy_url: v.string(),
  content_hash: v.string(),
})

const PurposeList = v.object({
  purposes: v.array(
    v.object({
      key: v.string(),
      channel: v.picklist(CHANNELS),
      legal_basis: v.picklist(BASES),
      double_opt_in: v.boolean(),
      max_consent_age_days: v.nullable(v.number()),
      notices: v.record(v.string(), NoticeView),
    }),
  ),
})

export function purposeRoutes(deps: Deps) {
  return new Hono()
    .get(
      '/',
      describeRoute({
        summary: 'Every purpose with its current wording per locale',
        ...scoped('subscribe'),
        responses: { 200: json(PurposeList), ...errors(401, 403) },
      }),
      apiKeyAuth(deps, 'subscribe'),
      async (c) => {
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
      },
    )
    .post(
      '/',
      describeRoute({
        summary: 'Add a purpose',
        ...scoped('admin'),
        requestBody: documentedBody(PurposeBody),
        responses: {
          201: json(v.object({ key: v.string() }), 'Created'),
          ...errors(400, 401, 403, 409),
        },
      }),
      apiKeyAuth(deps, 'admin'),
      jsonBody(PurposeBody),
      async (c) => {
        const body = c.req.valid('json')
        const input = {
          key: body.key,
          channel: body.channel,
          legalBasis: body.legal_basis,
          doubleOptIn: body.double_opt_in === true,
          maxConsentAgeDays: body.max_consent_age_days ?? null,
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
      },
    )
    .post(
      '/:key/notices',
      describeRoute({
        summary: 'Publish the next version of a notice (published versions are immutable)',
        ...scoped('admin'),
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: documentedBody(NoticeBody),
        responses: {
          201: json(
            v.object({
              id: v.string(),
              version: v.number(),
              content_hash: v.string(),
              reconsent_grace_until: v.nullable(v.string()),
            }),
            'Created',
          ),
          ...errors(400, 401, 403, 404, 409),
        },
      }),
      apiKeyAuth(deps, 'admin'),
      jsonBody(NoticeBody),
      async (c) => {
        const body = c.req.valid('json')
        const input = {
          purposeKey: c.req.param('key'),
          locale: body.locale,
          title: body.title,
          body: body.text,
          privacyUrl: body.privacy_url ?? '',
          requiresReconsent: body.requires_reconsent === true,
          reconsentGraceDays: body.reconsent_grace_days,
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
          {
            id: result.id,
            version: result.version,
            content_hash: result.contentHash,
            reconsent_grace_until:
              result.graceUntil === null ? null : new Date(result.graceUntil).toISOString(),
          },
          201,
        )
      },
    )
}
