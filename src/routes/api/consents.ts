/** @module GET /api/v1/contacts/{email or id}/consents: state, history with evidence and wording, signed receipt. */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { consentProof } from '../../domain/consent/proof.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, scoped } from './schemas.ts'

const ProofAnswer = v.object({
  contact_id: v.string(),
  state: v.record(v.string(), v.unknown()),
  history: v.array(v.unknown()),
  receipt: v.pipe(v.string(), v.description('verify with /.well-known/jwks.json')),
})

export function consentRoutes(deps: Deps) {
  return new Hono().get(
    '/:ref/consents',
    describeRoute({
      summary:
        'Proof: state per purpose, every event with evidence and wording, and a signed receipt (JWS, ES256)',
      ...scoped('consents:read'),
      parameters: [
        {
          name: 'ref',
          in: 'path',
          required: true,
          description: 'e-mail address or contact id',
          schema: { type: 'string' },
        },
      ],
      responses: { 200: json(ProofAnswer), ...errors(401, 403, 404) },
    }),
    apiKeyAuth(deps, 'consents:read'),
    async (c) => {
      const ref = decodeURIComponent(c.req.param('ref'))
      const found = ref.length <= 254 ? await consentProof(deps, ref) : null
      if (!found)
        return jsonError(c, 404, 'contact_not_found', 'No contact with that address or id')
      return c.json({ ...found.proof, receipt: found.receipt })
    },
  )
}
