/**
 * @module /api/v1/outbox and /api/v1/findings (admin keys): the calls to Mautic and mails that failed
 * for good (dead letters), put back in the queue on request, and the compliance findings a DPO must see
 * (a send without consent, a consent claimed in Mautic without proof, a contact with none).
 * Payloads are never shown: they may hold encrypted personal data.
 */
import { Hono } from 'hono'
import { FINDING_KINDS, listFindings, type FindingKind } from '../../domain/platform/findings.ts'
import type { Deps } from '../../deps.ts'
import { listOutboxMessages, retryDead } from '../../domain/platform/outbox.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'

const STATUSES = ['pending', 'dead'] as const
const KINDS: readonly FindingKind[] = FINDING_KINDS

export function outboxRoutes(deps: Deps) {
  return new Hono()
    .use(apiKeyAuth(deps, 'admin'))
    .get('/', async (c) => {
      const status = c.req.query('status') ?? 'dead'
      if (!(STATUSES as readonly string[]).includes(status))
        return jsonError(c, 400, 'invalid_status', 'status must be "pending" or "dead"')
      const rows = await listOutboxMessages(deps.db, status as 'pending' | 'dead')
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
    const findings = await listFindings(deps, {
      open: c.req.query('open') !== 'false',
      kind: kind as FindingKind | undefined,
    })
    return c.json({ findings })
  })
}
