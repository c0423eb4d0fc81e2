/**
 * @module /admin: the staff console, server-rendered (views/admin/), French and English, no script
 * but one same-origin file for passkeys. Every route declares the permission it needs (context.ts's
 * `guard`, listed in ADMIN_ROUTES); the app's origin check refuses a cross-origin POST (403), and
 * every form also carries the session's CSRF token.
 */
import { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { asset } from '../../lib/views.ts'
import { authRoutes } from './auth.ts'
import { complianceAssets, complianceRoutes } from './compliance.ts'
import { consoleRoutes } from './console.ts'
import { contactRoutes } from './contacts.ts'
import { dashboardRoutes } from './dashboard.ts'
import { formRoutes } from './forms.ts'
import { integrationRoutes } from './integration.ts'
import { purposeRoutes } from './purposes.ts'
import { requestRoutes } from './requests.ts'
import { withSession } from './context.ts'
import { operationsRoutes } from './operations.ts'
import { retentionRoutes } from './operations-retention.ts'

export { ADMIN_ROUTES } from './context.ts'

export function adminRoutes(deps: Deps) {
  const app = new Hono()
  const script = asset('admin-passkey.js') ?? ''
  app.get('/assets/passkey.js', (c) => {
    c.header('Content-Type', 'text/javascript; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body(script)
  })
  const styles = asset('admin-console.css') ?? ''
  app.get('/assets/console.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body(styles)
  })
  complianceAssets(app)
  app.use(withSession(deps))
  authRoutes(deps, app)
  dashboardRoutes(deps, app)
  contactRoutes(deps, app)
  requestRoutes(deps, app)
  purposeRoutes(deps, app)
  formRoutes(deps, app)
  integrationRoutes(deps, app)
  operationsRoutes(deps, app)
  retentionRoutes(deps, app)
  const { notFound } = consoleRoutes(deps, app)
  complianceRoutes(deps, app)
  app.all('*', notFound)
  return app
}
