/** @module /hooks: calls from Mautic (webhooks and the campaign action), JSON answers only. */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'

export function hookRoutes(_deps: Deps) {
  const hooks = new Hono()
  return hooks
}
