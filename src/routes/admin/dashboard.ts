/**
 * @module GET /admin: the dashboard (dashboard.read). Figures from src/domain/admin/dashboard.ts (the
 * daily counters), the Mautic webhook's health (src/mautic/webhook-health.ts) and the mirror mode, drawn
 * as SVG on the server (src/lib/plot.ts) with every plot's numbers in a table; no script.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  dashboardFigures,
  SHOWN_ACTIONS,
  type DashboardFigures,
} from '../../domain/admin/dashboard.ts'
import { mirrorMode } from '../../domain/platform/settings.ts'
import { SEND_PLACES } from '../../domain/platform/counters.ts'
import { utf8 } from '../../lib/encoding.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { horizontalBars, plot } from '../../lib/plot.ts'
import { renderView } from '../../lib/views.ts'
import { webhookHealth } from '../../mautic/webhook-health.ts'
import { adminLocale, adminPage, guard } from './context.ts'
import { count, duration, label, percent, when } from './format.ts'

/**
 * The page's figures, and what is drawn from them, are made again at most this often per process
 * and language (and purpose shown): a dashboard many people keep open costs a few reads every ten
 * seconds, not per view. What changes meanwhile shows at the next refresh.
 */
const FIGURES_TTL_MS = 10_000
const cached = new WeakMap<object, Map<string, { at: number; body: Promise<Uint8Array> }>>()

export function dashboardRoutes(deps: Deps, app: Hono) {
  /**
   * The page's content (views/admin/dashboard-body.hbs), rendered at most once per TTL, kept as
   * UTF-8 bytes (src/lib/html-bytes.ts).
   */
  const drawn = (c: Context, locale: Locale): Promise<Uint8Array> => {
    const now = deps.clock.now()
    const purpose = c.req.query('purpose') ?? ''
    let views = cached.get(deps.db)
    if (!views) cached.set(deps.db, (views = new Map()))
    const key = `${locale}\u0000${purpose.slice(0, 64)}`
    const hit = views.get(key)
    if (hit && now - hit.at >= 0 && now - hit.at < FIGURES_TTL_MS) return hit.body
    // Bounded: the purposes, in two languages.
    if (views.size > 200) views.clear()
    const entry = {
      at: now,
      body: Promise.all([dashboardFigures(deps), webhookHealth(deps), mirrorMode(deps)]).then(
        ([f, webhook, mode]) =>
          utf8(
            renderView('admin/dashboard-body', {
              locale,
              title: t(locale, 'admin.dashboard.title'),
              data: view(deps, purpose, locale, f, webhook, mode),
            }),
          ),
      ),
    }
    entry.body.catch(() => views.delete(key))
    views.set(key, entry)
    return entry.body
  }
  guard(deps, app, 'GET', '/', 'dashboard.read', async (c) =>
    adminPage(deps, c, 'admin/dashboard', {
      titleKey: 'admin.dashboard.title',
      fragment: await drawn(c, adminLocale(c)),
    }),
  )
}

function view(
  deps: Deps,
  chosen: string,
  locale: Locale,
  f: DashboardFigures,
  webhook: Awaited<ReturnType<typeof webhookHealth>>,
  mode: string,
) {
  const now = deps.clock.now()
  const tr = (key: string, params?: Record<string, unknown>) =>
    t(locale, `admin.dash.${key}`, params)
  const x = f.days.map((d) => d.slice(5))
  const recentX = f.recentDays.map((d) => d.slice(5))
  const noData = tr('noData')
  const purposes = Object.keys(f.consents).sort()
  const purpose = chosen && purposes.includes(chosen) ? chosen : ''
  const series = SHOWN_ACTIONS.map((a) => ({
    label: label(locale, 'action', a),
    values: f.days.map((_, i) =>
      (purpose ? [purpose] : purposes).reduce((s, p) => s + (f.consents[p]?.[a]?.[i] ?? 0), 0),
    ),
  }))
  const daily = (
    id: string,
    title: string,
    description: string,
    s: typeof series,
    kind: 'lines' | 'stacked',
    recent = true,
  ) =>
    plot({
      id,
      title,
      description,
      xName: tr('day'),
      x: recent ? recentX : x,
      xFull: recent ? f.recentDays : f.days,
      series: s,
      kind,
      emptyText: noData,
      totalName: tr('total'),
    })
  const consentPlot = daily(
    'consents',
    purpose ? tr('consents.titleOne', { purpose }) : tr('consents.title'),
    tr('consents.description', { days: f.days.length }),
    series,
    'lines',
    false,
  )
  const totals = purposes.map((p) => ({
    purpose: p,
    cells: SHOWN_ACTIONS.map((a) =>
      count(f.consentTotals.find((r) => r.purpose === p && r.action === a)?.count ?? 0, locale),
    ),
  }))

  const optinRows = f.optin.map((r) => ({
    purpose: r.purpose,
    source: r.source,
    requested: count(r.requested, locale),
    confirmed: count(r.confirmed, locale),
    rate: r.rate === null ? '—' : percent(r.rate, locale),
    median:
      r.median === null
        ? '—'
        : r.median.open
          ? tr('over', { time: duration(r.median.ms, locale) })
          : duration(r.median.ms, locale),
  }))
  const optinPlot = horizontalBars({
    id: 'optin',
    title: tr('optin.title'),
    description: tr('optin.description', { days: f.days.length }),
    emptyText: noData,
    rows: f.optin
      .filter((r) => r.rate !== null)
      .slice(0, 20)
      .map((r) => ({
        label: `${r.purpose} · ${r.source}`,
        fraction: Math.min(1, r.rate!),
        value: percent(r.rate!, locale),
      })),
  })

  const placeSeries = SEND_PLACES.map((p) => ({
    label: label(locale, 'place', p),
    values: f.refusedByDay[p] ?? new Array<number>(f.recentDays.length).fill(0),
  }))
  const refusedPlot = daily(
    'refused',
    tr('refused.title'),
    tr('refused.description', { days: f.recentDays.length }),
    placeSeries,
    'stacked',
  )
  const outcomes = Object.keys(f.webhooksByDay).sort()
  const hookPlot = daily(
    'webhooks',
    tr('webhooks.title'),
    tr('webhooks.description', { days: f.recentDays.length }),
    outcomes.map((o) => ({ label: label(locale, 'outcome', o), values: f.webhooksByDay[o]! })),
    'stacked',
  )
  const dsrPlot = daily(
    'requests',
    tr('requests.title'),
    tr('requests.description', { days: f.recentDays.length }),
    [{ label: tr('requests.received'), values: f.dsrByDay }],
    'stacked',
  )

  const lastReceived = webhook.last_received_at ? Date.parse(webhook.last_received_at) : null
  return {
    backfill: f.backfill.finished
      ? null
      : tr('backfill', {
          done: count(f.backfill.done, locale),
          total: count(f.backfill.total, locale),
        }),
    dsr: {
      received: count(f.dsr.received, locale),
      open: count(f.dsr.open, locale),
      dueSoon: count(f.dsr.dueSoon, locale),
      overdue: count(f.dsr.overdue, locale),
      late: f.dsr.overdue > 0,
      days: f.recentDays.length,
      allDays: f.days.length,
    },
    outbox: {
      pending: count(f.outbox.pending, locale),
      oldest: f.outbox.oldest === null ? '—' : duration(now - f.outbox.oldest, locale),
      failing: count(f.outbox.failing, locale),
      dead: count(f.outbox.dead, locale),
      bad: f.outbox.dead > 0,
    },
    mautic: {
      configured: deps.config.mautic !== undefined,
      state: label(locale, 'webhook', webhook.state),
      ok: webhook.state === 'ok' || webhook.state === 'not_configured',
      advice: webhook.advice,
      lastReceived: lastReceived === null ? '—' : when(lastReceived, locale),
      age: lastReceived === null ? '—' : duration(now - lastReceived, locale),
      hasAge: lastReceived !== null,
      published:
        webhook.published === null ? tr('unknown') : webhook.published ? tr('yes') : tr('no'),
      refused: f.webhookRefusals.length
        ? f.webhookRefusals
            .map((r) => `${label(locale, 'refusal', r.reason)}: ${count(r.count, locale)}`)
            .join(', ')
        : '0',
      mode: label(locale, 'mode', mode),
      pending: count(f.pendingMirrors.count, locale) + (f.pendingMirrors.capped ? '+' : ''),
    },
    purposes: [
      { value: '', label: tr('allPurposes'), selected: purpose === '' },
      ...purposes.map((p) => ({ value: p, label: p, selected: p === purpose })),
    ],
    consentPlot,
    actions: SHOWN_ACTIONS.map((a) => label(locale, 'action', a)),
    totals,
    optinPlot,
    optinRows,
    refusedPlot,
    refusedRows: f.refusedByReason.map((r) => ({
      place: label(locale, 'place', r.place),
      purpose: r.purpose || '—',
      reason: label(locale, 'reason', r.reason),
      count: count(r.count, locale),
    })),
    hookPlot,
    hookRows: f.webhooksByType.map((r) => ({
      type: r.type,
      outcome: label(locale, 'outcome', r.outcome),
      count: count(r.count, locale),
    })),
    dsrPlot,
  }
}
