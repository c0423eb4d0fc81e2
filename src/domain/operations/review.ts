/**
 * @module The quarterly review (GDPR Art. 5(2) accountability, Art. 24(1) "reviewed and updated where
 * necessary", Art. 32(1)(d) "regularly testing, assessing and evaluating"): each calendar quarter a
 * DPO goes through a fixed checklist and signs it off in the console. Its reminder is a `review_due`
 * finding the monitor opens in the last two weeks of a quarter not signed yet (and alerts about, as
 * any finding), which stays open, overdue after the quarter's end, until the sign-off closes it.
 */
import type { CompiledQuery } from 'kysely'
import {
  findReview,
  insertReviewQuery,
  listReviews,
  type ReviewRow,
} from '../../db/repositories/reviews.ts'
import { openSubjectFindings, resolveFindingQuery } from '../../db/repositories/findings.ts'
import type { Deps } from '../../deps.ts'
import type { Condition } from '../platform/findings.ts'

/** What each review goes through; the labels are in src/locales/operations.*.json (`ops.review.item.*`). */
export const REVIEW_ITEMS = [
  'findings',
  'requests',
  'retention',
  'backup_restored',
  'staff_access',
  'api_keys',
  'processors',
  'inventory',
  'notices',
  'incidents',
  'ledger',
] as const

export type ReviewItem = (typeof REVIEW_ITEMS)[number]

/** The reminder opens this long before a quarter ends. */
export const REMINDER_BEFORE_MS = 14 * 86_400_000

export interface Quarter {
  id: string
  start: number
  /** The first instant of the next quarter. */
  end: number
}

export function quarterOf(ms: number): Quarter {
  const d = new Date(ms)
  const q = Math.floor(d.getUTCMonth() / 3)
  const year = d.getUTCFullYear()
  return {
    id: `${year}-Q${q + 1}`,
    start: Date.UTC(year, q * 3, 1),
    end: Date.UTC(year, q * 3 + 3, 1),
  }
}

export function parseQuarter(id: string): Quarter | null {
  const m = /^(\d{4})-Q([1-4])$/.exec(id)
  return m ? quarterOf(Date.UTC(Number(m[1]), (Number(m[2]) - 1) * 3, 1)) : null
}

const SUBJECT = (quarter: string) => `review:${quarter}`

/**
 * The monitor's check: the current quarter's reminder once within two weeks of its end, and every
 * earlier quarter whose reminder is still open and that is still not signed (overdue, high).
 */
export async function reviewConditions(deps: Pick<Deps, 'db' | 'clock'>): Promise<Condition[]> {
  const now = deps.clock.now()
  const current = quarterOf(now)
  const quarters = new Map<string, Quarter>()
  if (now >= current.end - REMINDER_BEFORE_MS) quarters.set(current.id, current)
  for (const f of await openSubjectFindings(deps.db, ['review_due'])) {
    const q = parseQuarter(f.subject?.slice('review:'.length) ?? '')
    if (q) quarters.set(q.id, q)
  }
  const out: Condition[] = []
  for (const q of quarters.values()) {
    if (await findReview(deps.db, q.id)) continue
    out.push({
      kind: 'review_due',
      subject: SUBJECT(q.id),
      severity: now >= q.end ? 'high' : 'medium',
      details: { quarter: q.id, due_at: new Date(q.end - 1).toISOString(), overdue: now >= q.end },
    })
  }
  return out
}

export interface ReviewView {
  quarter: string
  items: ReviewItem[]
  notes: string
  signed_by: string
  signed_role: string | null
  signed_at: string
}

const view = (r: ReviewRow): ReviewView => ({
  quarter: r.quarter,
  items: Object.keys(JSON.parse(r.items) as Record<string, boolean>) as ReviewItem[],
  notes: r.notes,
  signed_by: r.signed_by,
  signed_role: r.signed_role,
  signed_at: new Date(r.signed_at).toISOString(),
})

export interface ReviewStatus {
  /** The quarter a sign-off is for now: the oldest open reminder's, else the current one. */
  quarter: string
  due_at: string
  signed: ReviewView | null
  /** Quarters whose reminder is open (not signed). */
  pending: string[]
  items: readonly ReviewItem[]
  history: ReviewView[]
}

export async function reviewStatus(deps: Pick<Deps, 'db' | 'clock'>): Promise<ReviewStatus> {
  const current = quarterOf(deps.clock.now())
  const pending = (await openSubjectFindings(deps.db, ['review_due']))
    .map((f) => f.subject!.slice('review:'.length))
    .sort()
  const quarter = parseQuarter(pending[0] ?? '') ?? current
  const signed = await findReview(deps.db, quarter.id)
  return {
    quarter: quarter.id,
    due_at: new Date(quarter.end).toISOString(),
    signed: signed ? view(signed) : null,
    pending,
    items: REVIEW_ITEMS,
    history: (await listReviews(deps.db, 12)).map(view),
  }
}

export type SignError = 'unknown_quarter' | 'future_quarter' | 'already_signed' | 'incomplete'

/**
 * Signs a quarter off: every item of the checklist ticked (what was not done is not signed), notes
 * optional. The quarter's reminder closes in the same unit; the caller adds its audit entry.
 */
export async function signReviewQueries(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: { quarter: string; items: string[]; notes?: string },
  by: { actor: string; role?: string | null },
): Promise<
  { ok: true; queries: CompiledQuery[] } | { ok: false; error: SignError; missing?: string[] }
> {
  const q = parseQuarter(input.quarter)
  if (!q) return { ok: false, error: 'unknown_quarter' }
  const now = deps.clock.now()
  if (q.start > now) return { ok: false, error: 'future_quarter' }
  if (await findReview(deps.db, q.id)) return { ok: false, error: 'already_signed' }
  const missing = REVIEW_ITEMS.filter((i) => !input.items.includes(i))
  if (missing.length > 0) return { ok: false, error: 'incomplete', missing }
  const queries = [
    insertReviewQuery(deps.db, {
      quarter: q.id,
      items: JSON.stringify(Object.fromEntries(REVIEW_ITEMS.map((i) => [i, true]))),
      notes: (input.notes ?? '').slice(0, 10_000),
      signed_by: by.actor,
      signed_role: by.role ?? null,
      signed_at: now,
    }),
  ]
  for (const f of await openSubjectFindings(deps.db, ['review_due']))
    if (f.subject === SUBJECT(q.id)) queries.push(resolveFindingQuery(deps.db, f.id, 'signed', now))
  return { ok: true, queries }
}
