/**
 * @module /api/v1/outbox and /api/v1/findings (admin keys): the calls to Mautic and mails that failed
 * for good (dead letters), put back in the queue on request, and the compliance findings a DPO must see
 * (a send without consent, a consent claimed in Mautic without proof, a contact with none).
 * Payloads are never shown: they may hold encrypted personal data.
 */
import { Hono } from 'hono'
import type { FindingKind } from '../../db/database.ts'
import { listFindings } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'
import { retryDead } from '../../domain/platform/outbox.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'

const STATUSES = ['pending', 'dead'] as const
const KINDS: FindingKind[] = [
  'send_without_consent',
  'unproven_consent_claim',
  'no_proof',
  'bounced',
]

export function outboxRoutes(deps: Deps) {
  return new Hono()
    .use(apiKeyAuth(deps, 'admin'))
    .get('/', async (c) => {
      const status = c.req.query('status') ?? 'dead'
      if (!(STATUSES as readonly string[]).includes(status))
        return jsonError(c, 400, 'invalid_status', 'status must be "pending" or "dead"')
      const rows = await deps.db
        .selectFrom('outbox')
        .select([
          'id',
          'kind',
          'ordering_key',
          'attempts',
          'last_error',
          'next_attempt_at',
          'created_at',
        ])
        .where('status', '=', status as 'pending' | 'dead')
        .orderBy('id')
        .limit(500)
        .execute()
      return c.json({ messages: rows })
    })
    .post('/:id/retry', async (c) => {
      const ok = await retryDead(deps.db, c.req.param('id'), deps.clock.now())
      if (!ok) return jsonError(c, 404, 'not_found', 'No dead-lettered message with this id')
      c.set('outboxPending', true)
      return c.json({ status: 'pending' })
    })
}

export function findingRoutes(deps: Deps) {
  return new Hono().get('/', apiKeyAuth(deps, 'admin'), async (c) => {
    const kind = c.req.query('kind')
    if (kind !== undefined && !KINDS.includes(kind as FindingKind))
      return jsonError(c, 400, 'invalid_kind', `kind must be one of ${KINDS.join(', ')}`)
    const rows = await listFindings(deps.db, {
      open: c.req.query('open') !== 'false',
      kind: kind as FindingKind | undefined,
    })
    return c.json({
      findings: rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown })),
    })
  })
}
