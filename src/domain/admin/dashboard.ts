/**
 * @module The dashboard's figures (README "Admin console"): consents per purpose per day, double
 * opt-in by purpose and source, sends the gate refused, data-subject requests and their deadlines
 * (GDPR Art. 12(3)), Mautic's webhook events and the outbox. Everything over time comes from the
 * daily counters (src/domain/platform/counters.ts), never from counting the ledger, so the page costs
 * the same at a million contacts as at ten; the rest reads small partial indexes (open requests,
 * pending and dead outbox rows, pending mirror changes). No personal data.
 */
import { openDsrFigures } from '../../db/repositories/dsr.ts'
import { countPendingMirrors } from '../../db/repositories/mautic.ts'
import { outboxFigures } from '../../db/repositories/outbox.ts'
import type { Deps } from '../../deps.ts'
import {
  backfillProgress,
  medianOfBuckets,
  readCounters,
  SEND_PLACES,
  utcDay,
  type BackfillProgress,
} from '../platform/counters.ts'

/** Days the consent plot covers, today (UTC) included. */
export const DASHBOARD_DAYS = 90
/** Days the operational plots cover (refusals, webhooks, requests): what an operator looks back on. */
export const RECENT_DAYS = 30
/** Requests due within this many days are shown as due soon. */
export const DUE_SOON_DAYS = 7
/** Pending mirror changes are counted up to this many (a partial index walk, bounded). */
export const PENDING_MIRROR_CAP = 100_000

export const SHOWN_ACTIONS = ['requested', 'confirmed', 'granted', 'withdrawn'] as const

export interface OptinRow {
  purpose: string
  source: string
  requested: number
  confirmed: number
  /** confirmed / requested, null when nothing was requested in the period. */
  rate: number | null
  median: { ms: number; open: boolean } | null
}

export interface DashboardFigures {
  /** The days of the period, oldest first (YYYY-MM-DD). */
  days: string[]
  /** The last RECENT_DAYS of them: the days of refusals, webhooks and requests. */
  recentDays: string[]
  /** purpose → action → count per day (SHOWN_ACTIONS), and every purpose's totals per action. */
  consents: Record<string, Record<string, number[]>>
  consentTotals: { purpose: string; action: string; count: number }[]
  optin: OptinRow[]
  /** place → refusals per recent day. */
  refusedByDay: Record<string, number[]>
  refusedByReason: { place: string; purpose: string; reason: string; count: number }[]
  /** outcome → events per recent day. */
  webhooksByDay: Record<string, number[]>
  webhooksByType: { type: string; outcome: string; count: number }[]
  webhookRefusals: { reason: string; count: number }[]
  /** Requests received per recent day; `received`: in the recent days. */
  dsrByDay: number[]
  dsr: { received: number; open: number; overdue: number; dueSoon: number }
  outbox: { pending: number; failing: number; oldest: number | null; dead: number }
  pendingMirrors: { count: number; capped: boolean }
  backfill: BackfillProgress
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0)

export async function dashboardFigures(
  deps: Pick<Deps, 'db' | 'clock'>,
  days = DASHBOARD_DAYS,
): Promise<DashboardFigures> {
  const now = deps.clock.now()
  const dayList = Array.from({ length: days }, (_, i) => utcDay(now - (days - 1 - i) * 86_400_000))
  const index = new Map(dayList.map((d, i) => [d, i]))
  const perDay = () => new Array<number>(days).fill(0)
  const recentList = dayList.slice(-Math.min(RECENT_DAYS, days))
  const recentIndex = new Map(recentList.map((d, i) => [d, i]))
  const perRecentDay = () => new Array<number>(recentList.length).fill(0)
  const [
    events,
    requested,
    confirmed,
    refused,
    hooks,
    hookRefusals,
    dsrs,
    open,
    outbox,
    mirrors,
    backfill,
  ] = await Promise.all([
    readCounters(deps, 'consent_events', days),
    readCounters(deps, 'optin_requested', days),
    readCounters(deps, 'optin_confirmed', days),
    readCounters(deps, 'sends_refused', days),
    readCounters(deps, 'webhook_events', days),
    readCounters(deps, 'webhook_refused', days),
    readCounters(deps, 'dsr_received', days),
    openDsrFigures(deps.db, now, now + DUE_SOON_DAYS * 86_400_000),
    outboxFigures(deps.db),
    countPendingMirrors(deps.db, PENDING_MIRROR_CAP),
    backfillProgress(deps),
  ])

  const consents: DashboardFigures['consents'] = {}
  const totals = new Map<string, number>()
  for (const e of events) {
    const i = index.get(e.day)
    if (i === undefined) continue
    const key = `${e.dims.purpose}\u0000${e.dims.action}`
    totals.set(key, (totals.get(key) ?? 0) + e.count)
    if (!(SHOWN_ACTIONS as readonly string[]).includes(e.dims.action)) continue
    const byAction = (consents[e.dims.purpose] ??= Object.fromEntries(
      SHOWN_ACTIONS.map((a) => [a, perDay()]),
    ))
    byAction[e.dims.action]![i]! += e.count
  }

  const optin = new Map<string, OptinRow & { buckets: Map<string, number> }>()
  const row = (purpose: string, source: string) => {
    const key = `${purpose}\u0000${source}`
    let r = optin.get(key)
    if (!r)
      optin.set(
        key,
        (r = {
          purpose,
          source,
          requested: 0,
          confirmed: 0,
          rate: null,
          median: null,
          buckets: new Map(),
        }),
      )
    return r
  }
  for (const q of requested) row(q.dims.purpose, q.dims.source).requested += q.count
  for (const c of confirmed) {
    const r = row(c.dims.purpose, c.dims.source)
    r.confirmed += c.count
    r.buckets.set(c.dims.waited, (r.buckets.get(c.dims.waited) ?? 0) + c.count)
  }

  const refusedByDay: Record<string, number[]> = Object.fromEntries(
    SEND_PLACES.map((p) => [p, perRecentDay()]),
  )
  const byReason = new Map<
    string,
    { place: string; purpose: string; reason: string; count: number }
  >()
  for (const r of refused) {
    const i = recentIndex.get(r.day)
    if (i !== undefined) (refusedByDay[r.dims.place] ??= perRecentDay())[i]! += r.count
    const key = `${r.dims.place}\u0000${r.dims.purpose}\u0000${r.dims.reason}`
    const b = byReason.get(key)
    if (b) b.count += r.count
    else byReason.set(key, { ...r.dims, count: r.count })
  }

  const webhooksByDay: Record<string, number[]> = {}
  const byType = new Map<string, { type: string; outcome: string; count: number }>()
  for (const h of hooks) {
    const i = recentIndex.get(h.day)
    if (i !== undefined) (webhooksByDay[h.dims.outcome] ??= perRecentDay())[i]! += h.count
    const key = `${h.dims.type}\u0000${h.dims.outcome}`
    const t = byType.get(key)
    if (t) t.count += h.count
    else byType.set(key, { ...h.dims, count: h.count })
  }
  const refusals = new Map<string, number>()
  for (const r of hookRefusals)
    refusals.set(r.dims.reason, (refusals.get(r.dims.reason) ?? 0) + r.count)

  const dsrByDay = perRecentDay()
  for (const d of dsrs) {
    const i = recentIndex.get(d.day)
    if (i !== undefined) dsrByDay[i]! += d.count
  }

  return {
    days: dayList,
    recentDays: recentList,
    consents,
    consentTotals: [...totals].map(([k, count]) => {
      const [purpose, action] = k.split('\u0000') as [string, string]
      return { purpose, action, count }
    }),
    optin: [...optin.values()]
      .map(({ buckets, ...r }) => ({
        ...r,
        rate: r.requested > 0 ? r.confirmed / r.requested : null,
        median: medianOfBuckets(buckets),
      }))
      .sort((a, b) => a.purpose.localeCompare(b.purpose) || b.requested - a.requested),
    refusedByDay,
    refusedByReason: [...byReason.values()].sort((a, b) => b.count - a.count),
    webhooksByDay,
    webhooksByType: [...byType.values()].sort((a, b) => b.count - a.count),
    webhookRefusals: [...refusals].map(([reason, count]) => ({ reason, count })),
    dsrByDay,
    dsr: { received: sum(dsrByDay), ...open },
    outbox,
    pendingMirrors: {
      count: Math.min(mirrors, PENDING_MIRROR_CAP),
      capped: mirrors >= PENDING_MIRROR_CAP,
    },
    backfill,
  }
}
