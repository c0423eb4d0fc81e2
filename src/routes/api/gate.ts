/**
 * @module POST /api/v1/gate: batch send decisions, in input order, with a reason for each refusal.
 * The schema below feeds the OpenAPI document; the body is checked by hand instead, on the hot path:
 * a batch of up to 10,000 references walked once, without building a valibot issue per item.
 * Refusals are counted per reason in memory and written together (src/domain/platform/counters.ts).
 */
import { Hono } from 'hono'
import { describeRoute } from './describe-route.ts'
import * as v from 'valibot'
import type { Deps } from '../../deps.ts'
import { GATE_REASONS } from '../../domain/consent/gate-decision.ts'
import { tallyRefusals } from '../../domain/platform/counters.ts'
import { gateBatch, type ContactRef } from '../../domain/sending/gate.ts'
import { jsonError } from '../../lib/http-errors.ts'
import { apiKeyAuth } from '../../middleware/api-key-auth.ts'
import { errors, json, scoped } from './schemas.ts'
import { documentedBody, parseJsonObject } from './validate.ts'

export const GATE_BATCH_MAX = 10_000

const ContactRefSchema = v.union([
  v.strictObject({ email: v.pipe(v.string(), v.maxLength(254)) }),
  v.strictObject({ mautic_id: v.union([v.pipe(v.string(), v.maxLength(64)), v.number()]) }),
  v.strictObject({ contact_id: v.pipe(v.string(), v.maxLength(64)) }),
])

const GateBody = v.object({
  purpose: v.pipe(v.string(), v.maxLength(64)),
  contacts: v.pipe(v.array(ContactRefSchema), v.minLength(1), v.maxLength(GATE_BATCH_MAX)),
})

const GateAnswer = v.object({
  results: v.array(
    v.object({
      allowed: v.boolean(),
      reason: v.nullable(v.picklist(GATE_REASONS)),
    }),
  ),
})

class BadInput extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export function gateRoutes(deps: Deps) {
  return new Hono().post(
    '/',
    describeRoute({
      summary: 'May a message of this purpose go to these contacts? (up to 10,000, in input order)',
      ...scoped('gate'),
      requestBody: documentedBody(GateBody),
      responses: { 200: json(GateAnswer), ...errors(400, 401, 403, 413) },
    }),
    apiKeyAuth(deps, 'gate'),
    async (c) => {
      const read = parseJsonObject(await c.req.text())
      if ('error' in read) return jsonError(c, 400, read.error.code, read.error.message)
      let purpose: string
      let refs: ContactRef[]
      try {
        const body = read.value
        purpose = purposeOf(body.purpose)
        refs = contactRefs(body.contacts)
      } catch (err) {
        if (err instanceof BadInput) return jsonError(c, 400, err.code, err.message)
        throw err
      }
      const result = await gateBatch(deps, purpose, refs)
      if (!result.ok) return jsonError(c, 400, result.code, result.message)
      if (tallyRefusals(deps, 'gate_api', purpose, refusals(result.decisions)))
        c.set('countersPending', true)
      return c.json({
        results: refs.map((ref, i) => ({ ...ref, ...result.decisions[i]! })),
      })
    },
  )
}

/** The reason of each refusal (src/domain/platform/counters.ts counts them per reason). */
function* refusals(decisions: { allowed: boolean; reason: string | null }[]) {
  for (const d of decisions) if (!d.allowed) yield d.reason ?? 'unknown_contact'
}

function purposeOf(v: unknown): string {
  if (v === undefined || v === null || v === '')
    throw new BadInput('missing_purpose', 'purpose is required')
  if (typeof v !== 'string') throw new BadInput('invalid_purpose', 'purpose must be a string')
  if (v.length > 64) throw new BadInput('invalid_purpose', 'purpose must be at most 64 characters')
  return v
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
