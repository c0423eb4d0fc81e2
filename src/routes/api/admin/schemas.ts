/** @module The admin API's shared valibot schemas and the OpenAPI pieces every operation repeats. */
import type { Context } from 'hono'
import { resolver, validator } from 'hono-openapi'
import * as v from 'valibot'
import { jsonError } from '../../../lib/http-errors.ts'

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

/** A JSON body checked against `schema`; a failure is a 400 in the API's error shape. */
export const jsonBody = <S extends v.GenericSchema>(schema: S) =>
  validator('json', schema, (result, c: Context) => {
    if (!result.success) {
      const issue = (
        result.error as readonly { message: string; path?: readonly { key?: unknown }[] }[]
      )[0]
      const where = issue?.path?.map((p) => String(p.key)).join('.')
      return jsonError(
        c,
        400,
        'invalid_body',
        where ? `${where}: ${issue?.message}` : (issue?.message ?? 'invalid body'),
      )
    }
  })

export const security = [{ apiKey: ['admin'] }]
