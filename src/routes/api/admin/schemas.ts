/** @module The admin API's shared valibot schemas and the OpenAPI pieces every operation repeats. */
import { resolver } from 'hono-openapi'
import * as v from 'valibot'

export const ErrorSchema = v.object({ error: v.object({ code: v.string(), message: v.string() }) })

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: resolver(ErrorSchema) } },
})

/** 401, 403 (and 400 when the operation takes a body) as every operation answers them. */
export const errors = (withBody = false) => ({
  ...(withBody ? { 400: errorResponse('The body is not valid') } : {}),
  401: errorResponse('No admin API key or session'),
  403: errorResponse(
    'A key without the admin scope, a role without the permission, or a step-up due',
  ),
})

export const ok = <S extends v.GenericSchema>(schema: S, description = 'OK') => ({
  description,
  content: { 'application/json': { schema: resolver(schema) } },
})

/**
 * A JSON body checked against `schema`, as every API route checks its body (src/routes/api/validate.ts):
 * a failure is a 400 naming the field (`missing_<field>`, `invalid_<field>`, `invalid_json`).
 */
export { jsonBody } from '../validate.ts'

export const security = [{ apiKey: ['admin'] }]
