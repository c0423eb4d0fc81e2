/** @module POST /api/v1/send: decide, add the links and headers, deliver (or queue for retry). */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { sendMarketingMail } from '../../domain/sending/send.ts'
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

export function sendRoutes(deps: Deps) {
  return new Hono().post('/', apiKeyAuth(deps, 'send'), async (c) => {
    let input
    try {
      const body = await readJsonObject(c)
      const subject = requiredString(body, 'subject', 998)
      // A header value: a line break would let the caller inject headers of its own.
      if (/[\r\n]/.test(subject)) throw new BadInput('invalid_subject', 'subject must be one line')
      const html = optionalString(body, 'html', 900_000)
      const text = optionalString(body, 'text', 900_000)
      if (!html && !text) throw new BadInput('missing_body', 'html or text is required')
      if (body.locale !== undefined && !isLocale(body.locale))
        throw new BadInput('invalid_locale', 'locale must be "fr" or "en"')
      input = {
        purpose: requiredString(body, 'purpose', 64),
        to: requiredString(body, 'to', 254),
        subject,
        html,
        text,
        locale: body.locale as 'fr' | 'en' | undefined,
      }
    } catch (err) {
      return badInputResponse(c, err)
    }
    const result = await sendMarketingMail(deps, input)
    if (result.status === 'invalid') return jsonError(c, 400, result.code, result.message)
    if (result.status === 'blocked') return c.json({ status: 'blocked', reason: result.reason })
    if (result.retry) c.set('outboxPending', true)
    return c.json({ status: 'queued', id: result.id }, 202)
  })
}
