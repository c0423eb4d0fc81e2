/**
 * @module Schemas shared by the /api/v1 routes and the OpenAPI document: the error shape every /api
 * answer uses, the locale, and how an operation names the API key scope it needs.
 */
import { resolver } from 'hono-openapi'
import * as v from 'valibot'

/** `{"error":{"code","message"}}`: every /api and /hooks error (src/lib/http-errors.ts). */
export const ErrorSchema = v.object({
  error: v.object({ code: v.string(), message: v.string() }),
})

export const LocaleSchema = v.picklist(['fr', 'en'], 'locale must be "fr" or "en"')

/** Error responses of an operation, in the document. */
export const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      {
        description: `Error (${code})`,
        content: { 'application/json': { schema: resolver(ErrorSchema) } },
      },
    ]),
  )

/** A JSON response in the document, from its schema. */
export const json = (schema: v.GenericSchema, description = 'OK') => ({
  description,
  content: { 'application/json': { schema: resolver(schema) } },
})

/** The API key scope an operation needs (src/middleware/api-key-auth.ts checks it). */
export const scoped = (scope: string) => ({ security: [{ apiKey: [scope] }], 'x-scope': scope })
