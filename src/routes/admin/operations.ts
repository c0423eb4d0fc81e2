/**
 * @module The console's operations screens (README, "Operations"): an overview, the monitor's
 * findings (open and closed, closed by hand with a reason, the checks run on demand), the quarterly
 * review a DPO signs off, re-consent campaigns and backups. Retention has its own file
 * (operations-retention.ts). Reading needs `compliance.read`; acting, `compliance.manage`; every
 * action is audited.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { can } from '../../domain/admin/permissions.ts'
import { reconsentProgress } from '../../domain/consent/reconsent.ts'
import { recentBackups, recordBackup } from '../../domain/operations/backups.ts'
import { describeFinding } from '../../domain/operations/describe.ts'
import { monitorMarks, runMonitor } from '../../domain/operations/monitor.ts'
import { REVIEW_ITEMS, reviewStatus, signReviewQueries } from '../../domain/operations/review.ts'
import { operationsStatus } from '../../domain/operations/status.ts'
import {
  closeFinding,
  FINDING_KINDS,
  findingList,
  isFindingKind,
} from '../../domain/platform/findings.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminPage, guard } from './context.ts'

export const when = (ms: number | string | null | undefined, locale: Locale) =>
  ms === null || ms === undefined
    ? t(locale, 'ops.never')
    : new Date(ms).toLocaleString(locale === 'fr' ? 'fr-FR' : 'en-GB', { timeZone: 'UTC' }) + ' UTC'

/** The last day before `end` (a quarter's end is the first instant of the next one), as a date. */
export const dayBefore = (end: number | string, locale: Locale) =>
  new Date(new Date(end).getTime() - 1).toLocaleDateString(locale === 'fr' ? 'fr-FR' : 'en-GB', {
    timeZone: 'UTC',
    dateStyle: 'long',
  })

const SCREENS = ['', '/findings', '/retention', '/review', '/reconsent', '/backups'] as const

/** The operations screens' own navigation, the current one marked. */
export function subnav(c: Context) {
  const locale = adminLocale(c)
  const path = c.req.path.replace(/\/+$/, '')
  return SCREENS.map((s) => ({
    href: `/admin/operations${s}`,
    label: t(locale, `ops.nav.${s.slice(1) || 'overview'}`),
    current: s === '' ? path === '/admin/operations' : path.startsWith(`/admin/operations${s}`),
  }))
}

const page = (
  deps: Deps,
  c: Context,
  view: string,
  titleKey: string,
  data: Record<string, unknown>,
  status: 200 | 400 | 404 | 409 = 200,
) =>
  adminPage(deps, c, `admin/operations/${view}`, {
    titleKey,
    status,
    data: { subnav: subnav(c), notice: null, error: null, ...data },
  })

export function operationsRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/operations', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const s = await operationsStatus(deps)
    const backup = s.backup.last
      ? t(locale, s.backup.stale ? 'ops.overview.backupStale' : 'ops.overview.backupValue', {
          when: when(s.backup.last.taken_at, locale),
          hours: Math.floor((s.backup.age_seconds ?? 0) / 3600),
        })
      : t(locale, 'ops.overview.backupNone')
    const run = s.retention.last_run
    return page(deps, c, 'overview', 'ops.overview.title', {
      findings: Object.entries(s.findings_open)
        .filter(([, n]) => n > 0)
        .map(([kind, count]) => ({ kind, count, label: t(locale, `ops.finding.kind.${kind}`) })),
      requests: s.requests,
      outbox: s.outbox,
      backup,
      retention: run
        ? t(locale, 'ops.overview.retentionValue', {
            when: when(run.started_at, locale),
            status: t(locale, `ops.retention.status.${run.status}`),
            erased: run.contacts_erased,
          })
        : t(locale, 'ops.overview.retentionNone', { days: s.retention.inactive_days }),
      review: t(locale, s.review.signed ? 'ops.overview.reviewSigned' : 'ops.overview.reviewDue', {
        quarter: s.review.quarter,
        due: dayBefore(s.review.due_at, locale),
      }),
      reconsent: t(locale, 'ops.overview.reconsentValue', {
        campaigns: s.reconsent.length,
        outdated: s.reconsent.reduce((n, r) => n + (r.grace_over ? 0 : r.outdated), 0),
      }),
      monitor: when(s.monitor.last_run_at, locale),
    })
  })

  // Findings
  const findingsPage = async (
    c: Context,
    extra: { notice?: string; error?: string } = {},
    status: 200 | 400 | 404 | 409 = 200,
  ) => {
    const locale = adminLocale(c)
    const q = c.req.query('status')
    const st = q === 'closed' || q === 'all' ? q : 'open'
    const k = c.req.query('kind')
    const kind = isFindingKind(k) ? k : undefined
    const manage = can(c.get('admin')!.user.role, 'compliance.manage')
    const rows = await findingList(deps, { status: st, kind, limit: 200 })
    const marks = await monitorMarks(deps)
    return page(
      deps,
      c,
      'findings',
      'ops.findings.title',
      {
        ...extra,
        canManage: manage,
        lastRun: t(locale, 'ops.findings.lastRun', { when: when(marks.last_run_at, locale) }),
        statuses: ['open', 'closed', 'all'].map((v) => ({
          value: v,
          label: t(locale, `ops.findings.status.${v}`),
          selected: v === st,
        })),
        kinds: FINDING_KINDS.map((v) => ({
          value: v,
          label: t(locale, `ops.finding.kind.${v}`),
          selected: v === kind,
        })),
        rows: rows.map((f) => {
          const d = describeFinding(locale, f)
          return {
            id: f.id,
            open: f.status === 'open',
            closable: manage && f.status === 'open',
            resolution: f.resolution,
            alerted: f.alerted_at ? when(f.alerted_at, locale) : null,
            ...d,
          }
        }),
      },
      status,
    )
  }
  guard(deps, app, 'GET', '/operations/findings', 'compliance.read', (c) => findingsPage(c))
  guard(deps, app, 'POST', '/operations/findings/:id/close', 'compliance.manage', async (c) => {
    const locale = adminLocale(c)
    const body = await c.req.parseBody()
    const resolution = typeof body.resolution === 'string' ? body.resolution.trim() : ''
    if (!resolution)
      return findingsPage(c, { error: t(locale, 'ops.findings.error.resolution') }, 400)
    const id = c.req.param('id') ?? ''
    const r = await closeFinding(deps, id, resolution)
    if (!r.ok) return findingsPage(c, { error: t(locale, `ops.findings.error.${r.code}`) }, 404)
    await recordAudit(
      deps,
      { ...actorOf(deps, c), action: 'finding.close', target: `finding:${id}` },
      [r.query],
    )
    return findingsPage(c, { notice: t(locale, 'ops.findings.closed') })
  })
  guard(deps, app, 'POST', '/operations/monitor/run', 'compliance.manage', async (c) => {
    const r = await runMonitor(deps)
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'monitor.run',
      details: { opened: r.opened, closed: r.closed, open: r.open },
    })
    if (r.alerted > 0) c.set('outboxPending', true)
    return findingsPage(c, {
      notice: t(adminLocale(c), 'ops.findings.ran', {
        opened: r.opened,
        closed: r.closed,
        open: r.open,
      }),
    })
  })

  // The quarterly review
  const reviewPage = async (
    c: Context,
    extra: { notice?: string; error?: string; checked?: string[]; notes?: string } = {},
    status: 200 | 400 | 409 = 200,
  ) => {
    const locale = adminLocale(c)
    const r = await reviewStatus(deps)
    return page(
      deps,
      c,
      'review',
      'ops.review.title',
      {
        notice: extra.notice ?? null,
        error: extra.error ?? null,
        quarter: r.quarter,
        headline: t(locale, r.signed ? 'ops.review.signedHeadline' : 'ops.review.dueHeadline', {
          quarter: r.quarter,
          due: dayBefore(r.due_at, locale),
        }),
        signed: r.signed !== null,
        signedLine: r.signed
          ? t(locale, 'ops.review.signedLine', {
              who: r.signed.signed_by,
              when: when(r.signed.signed_at, locale),
            })
          : null,
        canSign: can(c.get('admin')!.user.role, 'compliance.manage'),
        notes: extra.notes ?? '',
        items: REVIEW_ITEMS.map((key) => ({
          key,
          label: t(locale, `ops.review.item.${key}`),
          checked: extra.checked?.includes(key) ?? false,
        })),
        history: r.history.map((h) => ({ ...h, when: when(h.signed_at, locale) })),
      },
      status,
    )
  }
  guard(deps, app, 'GET', '/operations/review', 'compliance.read', (c) => reviewPage(c))
  guard(deps, app, 'POST', '/operations/review', 'compliance.manage', async (c, s) => {
    const locale = adminLocale(c)
    const body = await c.req.parseBody({ all: true })
    const raw = body.items
    const items = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
      (i): i is string => typeof i === 'string',
    )
    const notes = typeof body.notes === 'string' ? body.notes : ''
    const quarter = typeof body.quarter === 'string' ? body.quarter : ''
    const actor = actorOf(deps, c)
    const r = await signReviewQueries(
      deps,
      { quarter, items, notes },
      {
        actor: actor.actor,
        role: s.user.role,
      },
    )
    if (!r.ok)
      return reviewPage(
        c,
        { error: t(locale, `ops.review.error.${r.error}`), checked: items, notes },
        r.error === 'already_signed' ? 409 : 400,
      )
    await recordAudit(
      deps,
      {
        ...actor,
        action: 'review.sign',
        target: `review:${quarter}`,
        details: { items: items.length },
      },
      r.queries,
    )
    return reviewPage(c, { notice: t(locale, 'ops.review.done', { quarter }) })
  })

  // Re-consent
  guard(deps, app, 'GET', '/operations/reconsent', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const rows = (await reconsentProgress(deps)).map((r) => ({
      ...r,
      started: when(r.started_at, locale),
      grace: when(r.grace_until, locale),
    }))
    return page(deps, c, 'reconsent', 'ops.reconsent.title', {
      rows,
      over: t(locale, 'ops.reconsent.over'),
    })
  })

  // Backups
  const backupsPage = async (
    c: Context,
    extra: { notice?: string; error?: string } = {},
    status: 200 | 400 = 200,
  ) => {
    const locale = adminLocale(c)
    const s = await operationsStatus(deps)
    const b = s.backup
    return page(
      deps,
      c,
      'backups',
      'ops.backups.title',
      {
        ...extra,
        headline: b.last
          ? t(locale, b.stale ? 'ops.overview.backupStale' : 'ops.overview.backupValue', {
              when: when(b.last.taken_at, locale),
              hours: Math.floor((b.age_seconds ?? 0) / 3600),
            })
          : t(locale, 'ops.overview.backupNone'),
        limit:
          b.max_age_hours === null
            ? t(locale, 'ops.backups.unchecked')
            : t(locale, 'ops.backups.checked', { hours: b.max_age_hours }),
        canRecord: can(c.get('admin')!.user.role, 'compliance.manage'),
        rows: (await recentBackups(deps)).map((r) => ({
          ...r,
          taken: when(r.taken_at, locale),
          kind: t(locale, `ops.backups.kind.${r.kind}`),
          size: r.size_bytes === null ? '—' : `${Math.ceil(r.size_bytes / 1024)} KiB`,
        })),
      },
      status,
    )
  }
  guard(deps, app, 'GET', '/operations/backups', 'compliance.read', (c) => backupsPage(c))
  guard(deps, app, 'POST', '/operations/backups', 'compliance.manage', async (c) => {
    const locale = adminLocale(c)
    const body = await c.req.parseBody()
    const kind = body.kind === 'd1_export' ? 'd1_export' : 'other'
    const location = typeof body.location === 'string' ? body.location.trim() : ''
    const on = typeof body.taken_on === 'string' ? body.taken_on : ''
    const takenAt = /^\d{4}-\d{2}-\d{2}$/.test(on) ? Date.parse(`${on}T00:00:00Z`) : undefined
    if (!location || (takenAt !== undefined && takenAt > deps.clock.now()))
      return backupsPage(c, { error: t(locale, 'ops.backups.error') }, 400)
    const actor = actorOf(deps, c)
    const b = await recordBackup(deps, { kind, location, takenAt }, actor.actor)
    await recordAudit(deps, { ...actor, action: 'backup.record', target: `backup:${b.id}` })
    return backupsPage(c, { notice: t(locale, 'ops.backups.recorded') })
  })
}
