/**
 * @module Middleware run one after another as a single step of the app's chain. Hono's compose wraps
 * every step in an async function of its own (hono/dist/compose.js), and hono/combine's `every` adds
 * one more per step. The app puts its checks of requests that carry a body behind one step, so that
 * a page view (GET) passes them all in one call instead of one dispatch each.
 * Same contract as compose: a step that returns a Response without calling next ends the chain with
 * it, even when the step before awaits next() and returns nothing; what a step throws reaches the
 * app's onError.
 */
import type { Context, MiddlewareHandler, Next } from 'hono'

export function inSequence(...steps: MiddlewareHandler[]): MiddlewareHandler {
  return (c, next) => run(steps, 0, c, next)
}

/**
 * Step `i` and, through its next(), the ones after it. A module function rather than a closure made
 * per request: `npm start` runs through tsx, whose esbuild keeps function names, and every named
 * closure costs a defineProperty each time it is made.
 */
function run(
  steps: MiddlewareHandler[],
  i: number,
  c: Context,
  next: Next,
): Promise<Response | void> {
  if (i === steps.length) return next()
  return steps[i]!(c, () => run(steps, i + 1, c, next).then((res) => keep(c, res)))
}

/** As compose does with a step's Response: it becomes the answer unless one is set already. */
function keep(c: Context, res: Response | void): void {
  if (res instanceof Response && !c.finalized) c.res = res
}
