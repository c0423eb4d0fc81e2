/** @module GET /api/v1/contacts/{email or id}/consents: state, history with evidence and wording, signed receipt. */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { consentProof } from '../../domain/consent/proof.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'

export function consentRoutes(deps: Deps) {
  return new Hono().get('/:ref/consents', apiKeyAuth(deps, 'consents:read'), async (c) => {
    const ref = decodeURIComponent(c.req.param('ref'))
    const found = ref.length <= 254 ? await consentProof(deps, ref) : null
    if (!found) return jsonError(c, 404, 'contact_not_found', 'No contact with that address or id')
    return c.json({ ...found.proof, receipt: found.receipt })
  })
}
