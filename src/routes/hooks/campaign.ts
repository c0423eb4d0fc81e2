/**
 * @module POST /hooks/mautic/campaign: the target of Mautic's campaign action "Send a webhook". Mautic
 * retries anything but 200/201 every hour without end, so once the key is good the answer is always
 * 200 with a decision, even for a bad request. The decision itself: src/mautic/campaign.ts.
 */
import { Hono, type Context } from 'hono'
import type { Deps } from '../../deps.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { campaignDecision } from '../../mautic/campaign.ts'

export function campaignRoutes(deps: Deps) {
  return new Hono().post('/', apiKeyAuth(deps, 'campaign'), async (c) => {
    const body = await readBody(c)
    const purpose = c.req.query('purpose') ?? ''
    const emailIdRaw = c.req.query('email_id')
    const mauticId = /^\d{1,18}$/.test(body.contact_id ?? '') ? body.contact_id! : null
    const email = body.email && body.email.length <= 254 ? body.email : null
    const emailId = emailIdRaw && /^\d{1,18}$/.test(emailIdRaw) ? Number(emailIdRaw) : null
    if (!purpose || (!mauticId && !email) || (emailIdRaw && emailId === null))
      return c.json({
        decision: 'blocked',
        reason: 'invalid_request',
        message:
          'needs ?purpose=KEY, a contact_id or email in the body, and a numeric email_id if any',
      })

    const answer = await campaignDecision(deps, { purpose, mauticId, email, emailId })
    if (answer.outboxPending) c.set('outboxPending', true)
    return c.json(answer.body)
  })
}

/** Mautic posts form-encoded values, or a flat JSON object of strings with `Content-Type: application/json`. */
async function readBody(c: Context): Promise<{ contact_id?: string; email?: string }> {
  const type = c.req.header('content-type') ?? ''
  try {
    const data: Record<string, unknown> = type.includes('application/json')
      ? ((await c.req.json()) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(await c.req.text()))
    const str = (v: unknown) =>
      typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined
    return { contact_id: str(data?.contact_id), email: str(data?.email) }
  } catch {
    return {}
  }
}
