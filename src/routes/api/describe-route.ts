/**
 * @module hono-openapi's describeRoute without its cost at run time. Its middleware is an async
 * function that only awaits next(): one more promise and several microtask turns on every API call.
 * This one passes straight on and carries the same description (an own symbol property), which is
 * all generateSpecs reads when it builds /api/v1/openapi.json (src/routes/api/openapi.ts).
 */
import type { MiddlewareHandler } from 'hono'
import { describeRoute as describedBy } from 'hono-openapi'

export function describeRoute(spec: Parameters<typeof describedBy>[0]): MiddlewareHandler {
  const passOn: MiddlewareHandler = (_c, next) => next()
  return Object.assign(passOn, describedBy(spec))
}
