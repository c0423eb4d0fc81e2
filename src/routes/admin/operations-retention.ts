/**
 * @module The console's retention screen (src/domain/operations/retention.ts): the rule in words, the
 * runs with their counts, the dry run's list (contact ids and dates only: what a run would erase now,
 * a page at a time) and a run started by hand, which erases: `contacts.erase` and a fresh second
 * factor, audited.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { can } from '../../domain/admin/permissions.ts'
import {
  advanceRetentionRun,
  listRuns,
  previewRetention,
  startRetentionRun,
} from '../../domain/operations/retention.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminPage, guard } from './context.ts'
import { subnav, when } from './operations.ts'

/** How long a run started from the console goes on within the request; the scheduler does the rest. */
const IN_REQUEST_MS = 3_000

const rule = (deps: Deps, locale: Locale) => {
  const days = deps.config.operations.retentionInactiveDays
  return days === 0
    ? t(locale, 'ops.retention.off')
    : t(locale, 'ops.retention.rule', {
        days,
        years: Math.round((days / 365) * 10) / 10,
        cutoff: when(deps.clock.now() - days * 86_400_000, locale),
      })
}

export function retentionRoutes(deps: Deps, app: Hono) {
  const retentionPage = async (c: Context, notice: string | null = null) => {
    const locale = adminLocale(c)
    const runs = (await listRuns(deps, 30)).map((r) => ({
      ...r,
      started: when(r.started_at, locale),
      statusLabel: t(locale, `ops.retention.status.${r.status}`),
    }))
    return adminPage(deps, c, 'admin/operations/retention', {
      titleKey: 'ops.retention.title',
      data: {
        subnav: subnav(c),
        notice,
        rule: rule(deps, locale),
        canRun: can(c.get('admin')!.user.role, 'contacts.erase'),
        runs,
      },
    })
  }
  guard(deps, app, 'GET', '/operations/retention', 'compliance.read', (c) => retentionPage(c))

  guard(deps, app, 'GET', '/operations/retention/preview', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const after = c.req.query('after')?.slice(0, 64) || null
    const preview = await previewRetention(deps, { after, limit: 100 })
    return adminPage(deps, c, 'admin/operations/retention-preview', {
      titleKey: 'ops.preview.title',
      data: {
        subnav: subnav(c),
        rule: rule(deps, locale),
        first: after === null,
        preview,
        next: preview.next,
        rows: preview.candidates.map((r) => ({
          contact_id: r.contact_id,
          created: when(r.created_at, locale),
          last: when(r.last_activity_at, locale),
          what: t(locale, `ops.retention.last.${r.last_activity}`),
        })),
      },
    })
  })

  guard(
    deps,
    app,
    'POST',
    '/operations/retention/run',
    'contacts.erase',
    async (c) => {
      const actor = actorOf(deps, c)
      let run = await startRetentionRun(deps, { trigger: 'admin', actor: actor.actor })
      await recordAudit(deps, { ...actor, action: 'retention.run', target: `retention:${run.id}` })
      const started = Date.now()
      while (run.status === 'running' && Date.now() - started < IN_REQUEST_MS) {
        const next = await advanceRetentionRun(deps, run.id)
        if (!next || next.locked_until !== null) break
        run = next
      }
      if (run.contacts_erased > 0) c.set('outboxPending', true)
      const locale = adminLocale(c)
      return retentionPage(
        c,
        t(locale, run.status === 'running' ? 'ops.retention.continuing' : 'ops.retention.ran', {
          erased: run.contacts_erased,
        }),
      )
    },
    { stepUp: true, back: '/admin/operations/retention' },
  )
}
