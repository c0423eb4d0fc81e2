/**
 * @module /me/{token}: the data pages, opened only from the one-hour link mailed by /privacy or the
 * preference center (GDPR Art. 15-17, 20, 21), and /me/{token}/address, the check of a new address
 * (its token is of another kind, refused by the data pages). Tokens always come first in the path, where
 * the logs redact them.
 */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { meActionRoutes } from './me-actions.ts'
import { meCorrectRoutes } from './me-correct.ts'
import { meDataRoutes } from './me-data.ts'
import { meEmailRoutes } from './me-email.ts'

export function meRoutes(deps: Deps) {
  return new Hono()
    .route('/', meEmailRoutes(deps))
    .route('/', meCorrectRoutes(deps))
    .route('/', meActionRoutes(deps))
    .route('/', meDataRoutes(deps))
}
