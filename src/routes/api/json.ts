/** @module Reading and checking JSON bodies: every problem is a clear 4xx naming the field. */
import type { Context } from 'hono'
import { jsonError } from '../../lib/http-errors.ts'

export class BadInput extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

/** The parsed body as an object, or a BadInput (400 invalid_json / invalid_body). */
export async function readJsonObject(c: Context): Promise<Record<string, unknown>> {
  let value: unknown
  try {
    value = JSON.parse(await c.req.text())
  } catch {
    throw new BadInput('invalid_json', 'The body is not valid JSON')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new BadInput('invalid_body', 'The body must be a JSON object')
  return value as Record<string, unknown>
}

export function optionalString(
  body: Record<string, unknown>,
  field: string,
  max: number,
): string | undefined {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new BadInput(`invalid_${field}`, `${field} must be a string`)
  if (v.length > max)
    throw new BadInput(`invalid_${field}`, `${field} must be at most ${max} characters`)
  return v
}

export function requiredString(body: Record<string, unknown>, field: string, max: number): string {
  const v = optionalString(body, field, max)
  if (v === undefined || v === '') throw new BadInput(`missing_${field}`, `${field} is required`)
  return v
}

/** Maps a BadInput to its 400; anything else goes on to the error handler. */
export function badInputResponse(c: Context, err: unknown) {
  if (err instanceof BadInput) return jsonError(c, 400, err.code, err.message)
  throw err
}
