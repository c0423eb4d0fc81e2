/** @module POST /api/v1/gate: batch send decisions, in input order, with a reason for each refusal. */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { gateBatch, type ContactRef } from '../../domain/sending/gate.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { BadInput, badInputResponse, readJsonObject, requiredString } from './json.ts'

export const GATE_BATCH_MAX = 10_000

export function gateRoutes(deps: Deps) {
  return new Hono().post('/', apiKeyAuth(deps, 'gate'), async (c) => {
    let purpose: string
    let refs: ContactRef[]
    try {
      const body = await readJsonObject(c)
      purpose = requiredString(body, 'purpose', 64)
      refs = contactRefs(body.contacts)
    } catch (err) {
      return badInputResponse(c, err)
    }
    const result = await gateBatch(deps, purpose, refs)
    if (!result.ok) return jsonError(c, 400, result.code, result.message)
    return c.json({
      results: refs.map((ref, i) => ({ ...ref, ...result.decisions[i]! })),
    })
  })
}

function contactRefs(v: unknown): ContactRef[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new BadInput('invalid_contacts', 'contacts must be a non-empty array')
  if (v.length > GATE_BATCH_MAX)
    throw new BadInput('too_many_contacts', `at most ${GATE_BATCH_MAX} contacts per call`)
  return v.map((ref, i) => {
    const r = ref as Record<string, unknown>
    const keys = r && typeof r === 'object' ? Object.keys(r) : []
    const ok =
      keys.length === 1 &&
      ((typeof r.email === 'string' && r.email.length <= 254) ||
        ((typeof r.mautic_id === 'string' || typeof r.mautic_id === 'number') &&
          String(r.mautic_id).length <= 64) ||
        (typeof r.contact_id === 'string' && r.contact_id.length <= 64))
    if (!ok)
      throw new BadInput(
        'invalid_contacts',
        `contacts[${i}] must be {"email"}, {"mautic_id"} or {"contact_id"}`,
      )
    return r as ContactRef
  })
}
