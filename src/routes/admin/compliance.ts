/**
 * @module The console's compliance screens (README "Compliance"; GDPR Art. 5(2), 19, 28, 30, 33): an
 * overview, then the data inventory, the risk report, the record of processing activities, the
 * processors register, the breach register, recipients' tasks and proof bundles, each in a file of its
 * own (compliance-*.ts) over src/domain/compliance/. Every route names its permission through
 * context.ts's `guard`, which also checks the session's CSRF token on every POST (the app's origin
 * check refuses cross-origin ones first); every action is written in the audit log.
 */
import type { Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { listInventory } from '../../domain/compliance/inventory.ts'
import { listProcessors } from '../../domain/compliance/processors.ts'
import { listRecipientNotices } from '../../domain/compliance/recipients.ts'
import { riskSummary, SEVERITIES } from '../../domain/compliance/risks.ts'
import { listIncidents } from '../../domain/compliance/incidents.ts'
import { t } from '../../lib/i18n.ts'
import { asset } from '../../lib/views.ts'
import { bundleRoutes } from './compliance-bundles.ts'
import { incidentRoutes } from './compliance-incidents.ts'
import { inventoryRoutes } from './compliance-inventory.ts'
import { processorRoutes } from './compliance-processors.ts'
import { recipientRoutes } from './compliance-recipients.ts'
import { recordRoutes } from './compliance-record.ts'
import { riskRoutes } from './compliance-risks.ts'
import { clockView, compliancePage, may } from './compliance-shared.ts'
import { adminLocale, guard } from './context.ts'

/** The compliance screens' stylesheet (clock, banner, severities, print): served before any session. */
export function complianceAssets(app: Hono) {
  const css = asset('admin-compliance.css') ?? ''
  app.get('/assets/compliance.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8')
    c.header('Cache-Control', 'public, max-age=3600')
    return c.body(css)
  })
}

export function complianceRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/compliance', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const [summary, pending, processors, incidents, tasks] = await Promise.all([
      riskSummary(deps),
      listInventory(deps, { status: 'pending' }),
      listProcessors(deps),
      listIncidents(deps, { status: 'open' }),
      may(c, 'requests.manage')
        ? listRecipientNotices(deps, { channel: 'task', open: true })
        : Promise.resolve(null),
    ])
    return compliancePage(deps, c, 'overview', {
      titleKey: 'admin.compliance.title',
      data: {
        risks: SEVERITIES.map((s) => ({
          severity: s,
          label: t(locale, `admin.compliance.severity.${s}`),
          count: summary[s],
        })),
        pending: pending.length,
        processors: processors.length,
        incidents: incidents.map((i) => ({
          id: i.id,
          title: i.title,
          clock: clockView(i.clock, locale),
        })),
        tasks: tasks === null ? null : tasks.length,
      },
    })
  })
  inventoryRoutes(deps, app)
  riskRoutes(deps, app)
  recordRoutes(deps, app)
  processorRoutes(deps, app)
  incidentRoutes(deps, app)
  recipientRoutes(deps, app)
  bundleRoutes(deps, app)
}
