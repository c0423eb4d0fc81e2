/**
 * @module One schema per request body (valibot) gives both the check and the OpenAPI document
 * (src/routes/api/openapi.ts). Every problem is a clear 400 naming the field: `missing_<field>` when a
 * required field is absent or empty, `invalid_<field>` otherwise, with the schema's own message.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { resolver } from 'hono-openapi'
import * as v from 'valibot'
import { jsonError } from '../../lib/http-errors.ts'

type Schema = v.GenericSchema

/** A field's schema marks "required" with this check, so that an empty value reads as missing. */
export const required = (field: string) => v.nonEmpty<string, string>(`${field} is required`)

/** The schema of a top-level field, when `schema` is an object schema. */
function entryOf(schema: Schema, field: string): Schema | undefined {
  const entries = (schema as { entries?: Record<string, Schema> }).entries
  return entries?.[field]
}

/** Whether a field's schema says "required" (a `required()` check in its pipe, nested pipes too). */
function isRequired(entry: unknown): boolean {
  const pipe = (entry as { pipe?: unknown[] } | undefined)?.pipe ?? []
  return pipe.some(
    (a) => (a as { type?: string }).type === 'non_empty' || (a !== entry && isRequired(a)),
  )
}

/** The error of the first issue, named after the top-level field it is about. */
function issueError(schema: Schema, issue: v.BaseIssue<unknown>) {
  const field = issue.path?.[0]?.key
  if (typeof field !== 'string') return { code: 'invalid_body', message: issue.message }
  if (issue.type === 'non_empty') return { code: `missing_${field}`, message: issue.message }
  const entry = entryOf(schema, field)
  // An absent field: valibot reports it on the object, with a generic message; say it per field.
  if (issue.path!.length === 1 && (issue.input === undefined || issue.input === null)) {
    if (isRequired(entry)) return { code: `missing_${field}`, message: `${field} is required` }
    const own = (entry as { message?: unknown } | undefined)?.message
    if (typeof own === 'string') return { code: `invalid_${field}`, message: own }
  }
  return { code: `invalid_${field}`, message: issue.message }
}

/** A body as a JSON object, or the 400 to answer (invalid_json, invalid_body). */
export function parseJsonObject(
  text: string,
): { value: Record<string, unknown> } | { error: { code: string; message: string } } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { error: { code: 'invalid_json', message: 'The body is not valid JSON' } }
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return { error: { code: 'invalid_body', message: 'The body must be a JSON object' } }
  return { value: value as Record<string, unknown> }
}

/**
 * Reads the body as JSON whatever its Content-Type (tools send JSON without one), checks it against
 * `schema`, and hands the typed value on as `c.req.valid('json')`.
 */
export function jsonBody<S extends Schema>(
  schema: S,
): MiddlewareHandler<
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Env: the middleware reads none of it
  any,
  string,
  { in: { json: v.InferInput<S> }; out: { json: v.InferOutput<S> } }
> {
  return async (c, next) => {
    const read = parseJsonObject(await c.req.text())
    if ('error' in read) return jsonError(c, 400, read.error.code, read.error.message)
    const result = v.safeParse(schema, read.value)
    if (!result.success) return badInput(c, schema, result.issues[0])
    c.req.addValidatedData('json', result.output as object)
    await next()
  }
}

/** A JSON request body in the OpenAPI document, from the schema that checks it. */
export const documentedBody = (schema: Schema, description?: string) => ({
  required: true,
  ...(description && { description }),
  content: { 'application/json': { schema: resolver(schema) } },
})

/** Answers 400 with the first issue of a schema failing on a value read some other way (a query). */
export function badInput(c: Context, schema: Schema, issue: v.BaseIssue<unknown>) {
  const { code, message } = issueError(schema, issue)
  return jsonError(c, 400, code, message)
}
