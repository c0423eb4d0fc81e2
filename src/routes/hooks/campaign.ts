/**
 * @module POST /hooks/mautic/campaign: the target of Mautic's campaign action "Send a webhook"
 * (CONTRACT.md). Mautic retries anything but 200/201 every hour without end (research/mautic.md §3), so
 * once the key is good the answer is always 200 with a decision, even for a bad request.
 * - without `email_id`: the contact's DNC, tags and fields are mirrored right before the answer, so the
 *   campaign's next step (Mautic's own "Send email", or a condition on the `consent_<key>` tag) is gated
 *   by Mautic itself;
 * - with `email_id`, when allowed: Mautic is asked, through the outbox, to send that e-mail with the
 *   gateway's links as the tokens {consent_unsubscribe_url} and {consent_preferences_url}.
 */
import { Hono, type Context } from 'hono'
import { linkQuery } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'
import { gateBatch, type ContactRef } from '../../domain/sending/gate.ts'
import { enqueueQuery } from '../../domain/platform/outbox.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { mauticOrderingKey, resolveContact } from '../../mautic/intake.ts'
import { mirror } from '../../mautic/mirror.ts'

/** Mautic's campaign webhook gives up after 10 s by default; the mirror must answer well before. */
const MIRROR_TIMEOUT_MS = 4_000

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

    const now = deps.clock.now()
    const contact = await resolveContact(deps, mauticId, email)
    const active = contact?.status === 'active' ? contact : undefined
    // The campaign is how Mautic introduces a contact id the gateway may not know yet: link them.
    if (active && mauticId) await deps.atomic([linkQuery(deps.db, mauticId, active.id, now)])
    const ref: ContactRef = active ? { contact_id: active.id } : { email: email ?? '' }
    const result = await gateBatch(deps, purpose, [ref])
    if (!result.ok)
      return c.json({ decision: 'blocked', reason: result.code, message: result.message })
    const { allowed, reason } = result.decisions[0]!

    if (emailId !== null && allowed && active && mauticId) {
      await deps.atomic([
        enqueueQuery(deps.db, now, {
          kind: 'mautic.send_email',
          payload: { emailId, mauticId, contactId: active.id, purpose },
          orderingKey: mauticOrderingKey(mauticId),
        }),
      ])
      c.set('outboxPending', true)
    } else if (emailId === null && mauticId && deps.mautic) {
      const target = { contactId: active?.id, mauticId }
      let timer: ReturnType<typeof setTimeout> | undefined
      const done = await Promise.race([
        mirror(deps, target).then(
          () => true,
          (err: unknown) => {
            deps.logger.log('warn', 'campaign gate: mirror failed, queued for retry', { err })
            return false
          },
        ),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), MIRROR_TIMEOUT_MS))),
      ])
      clearTimeout(timer)
      if (!done) {
        // Mautic slow or down: the decision stands, and the mirror is retried from the outbox.
        await deps.atomic([
          enqueueQuery(deps.db, now, {
            kind: 'mautic.mirror',
            payload: target,
            orderingKey: mauticOrderingKey(active?.id ?? mauticId),
          }),
        ])
        c.set('outboxPending', true)
      }
    }
    return c.json({ decision: allowed ? 'allowed' : 'blocked', reason })
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
