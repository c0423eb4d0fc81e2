/**
 * @module The breach register (GDPR Art. 33, 34): each personal data breach from detection to closure,
 * with the 72-hour clock of Art. 33(1) running from detection (when the controller "became aware")
 * until the authority is notified, or until the breach is assessed as unlikely to result in a risk to
 * people. A reminder mail goes to DPO_EMAIL at 48 and at 66 hours while the clock runs
 * (`sendIncidentReminders`, a scheduled job). A notification later than 72 hours needs its reasons
 * (Art. 33(1)); people are told of a high risk, or the reason they are not is recorded (Art. 34(3)).
 * Incidents hold no personal data of the people affected: counts and categories only.
 */
import type { CompiledQuery } from 'kysely'
import type { FieldCategory, IncidentRisk } from '../../db/database.ts'
import {
  findIncident,
  incidentsAwaitingNotification,
  insertIncident,
  listIncidentRows,
  markReminderQuery,
  updateIncident as updateIncidentRow,
  type IncidentRow,
} from '../../db/repositories/incidents.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { enqueueQuery } from '../platform/outbox.ts'

export const HOUR_MS = 3_600_000
/** Art. 33(1): "not later than 72 hours after having become aware of it". */
export const NOTIFICATION_DEADLINE_MS = 72 * HOUR_MS
export const REMINDER_HOURS = [48, 66] as const
export const INCIDENT_RISKS: readonly IncidentRisk[] = ['unlikely', 'risk', 'high']
export const BREACH_NATURES = ['confidentiality', 'integrity', 'availability'] as const
export type BreachNature = (typeof BREACH_NATURES)[number]

export type IncidentStage =
  'detected' | 'assessed' | 'authority_notified' | 'people_notified' | 'closed'

export interface IncidentClock {
  deadline: string
  /** Until the deadline; negative once past it. */
  remaining_ms: number
  hours_elapsed: number
  overdue: boolean
  /** The clock no longer runs: the authority was notified, the risk is unlikely, or it is closed. */
  stopped: boolean
  /** Why it stopped, when it did. */
  stopped_by: 'authority_notified' | 'risk_unlikely' | 'closed' | null
}

export interface IncidentView {
  id: string
  title: string
  description: string
  stage: IncidentStage
  detected_at: string
  nature: BreachNature[]
  data_categories: FieldCategory[]
  people_affected: number | null
  records_affected: number | null
  risk: IncidentRisk | null
  assessment: string | null
  assessed_at: string | null
  authority_notified_at: string | null
  authority_reference: string | null
  delay_reason: string | null
  people_notified_at: string | null
  people_notice: string | null
  measures: string | null
  reminders_sent: { hours: 48 | 66; at: string }[]
  clock: IncidentClock
  closed_at: string | null
  created_at: string
  created_by: string
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** The 72-hour clock at `now`, shown on every screen. */
export function incidentClock(row: IncidentRow, now: number): IncidentClock {
  const deadline = row.detected_at + NOTIFICATION_DEADLINE_MS
  const stoppedBy =
    row.authority_notified_at !== null
      ? 'authority_notified'
      : row.risk === 'unlikely'
        ? 'risk_unlikely'
        : row.closed_at !== null
          ? 'closed'
          : null
  // A stopped clock shows where it stood when it stopped.
  const at =
    stoppedBy === 'authority_notified'
      ? row.authority_notified_at!
      : stoppedBy === 'risk_unlikely'
        ? (row.assessed_at ?? now)
        : stoppedBy === 'closed'
          ? row.closed_at!
          : now
  return {
    deadline: new Date(deadline).toISOString(),
    remaining_ms: deadline - at,
    hours_elapsed: Math.floor((at - row.detected_at) / HOUR_MS),
    overdue: at > deadline,
    stopped: stoppedBy !== null,
    stopped_by: stoppedBy,
  }
}

function stage(row: IncidentRow): IncidentStage {
  if (row.closed_at !== null) return 'closed'
  if (row.people_notified_at !== null) return 'people_notified'
  if (row.authority_notified_at !== null) return 'authority_notified'
  if (row.assessed_at !== null) return 'assessed'
  return 'detected'
}

export function incidentView(row: IncidentRow, now: number): IncidentView {
  const reminders: IncidentView['reminders_sent'] = []
  if (row.reminder_48_at !== null) reminders.push({ hours: 48, at: iso(row.reminder_48_at)! })
  if (row.reminder_66_at !== null) reminders.push({ hours: 66, at: iso(row.reminder_66_at)! })
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    stage: stage(row),
    detected_at: iso(row.detected_at)!,
    nature: JSON.parse(row.nature) as BreachNature[],
    data_categories: JSON.parse(row.data_categories) as FieldCategory[],
    people_affected: row.people_affected,
    records_affected: row.records_affected,
    risk: row.risk,
    assessment: row.assessment,
    assessed_at: iso(row.assessed_at),
    authority_notified_at: iso(row.authority_notified_at),
    authority_reference: row.authority_reference,
    delay_reason: row.delay_reason,
    people_notified_at: iso(row.people_notified_at),
    people_notice: row.people_notice,
    measures: row.measures,
    reminders_sent: reminders,
    clock: incidentClock(row, now),
    closed_at: iso(row.closed_at),
    created_at: iso(row.created_at)!,
    created_by: row.created_by,
  }
}

export interface IncidentFacts {
  title?: string
  description?: string
  nature?: BreachNature[]
  data_categories?: FieldCategory[]
  people_affected?: number | null
  records_affected?: number | null
  measures?: string | null
}

export type IncidentResult =
  | { ok: true; incident: IncidentView }
  | {
      ok: false
      code: 'not_found' | 'closed' | 'in_future' | 'delay_reason_required' | 'not_assessed'
      message: string
    }

const notFound = { ok: false, code: 'not_found', message: 'No incident with this id' } as const
const closed = { ok: false, code: 'closed', message: 'This incident is closed' } as const

export async function listIncidents(
  deps: Pick<Deps, 'db' | 'query' | 'clock'>,
  opts: { status?: 'open' | 'closed' | 'all' } = {},
): Promise<IncidentView[]> {
  const now = deps.clock.now()
  return (await listIncidentRows(deps, opts)).map((r) => incidentView(r, now))
}

export async function getIncident(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
): Promise<IncidentView | null> {
  const row = await findIncident(deps.db, id)
  return row ? incidentView(row, deps.clock.now()) : null
}

/** Records a breach; the clock starts at `detected_at` (default: now), which cannot be in the future. */
export async function createIncident(
  deps: Pick<Deps, 'db' | 'clock'>,
  input: IncidentFacts & { title: string; detected_at?: number },
  actor: string,
): Promise<IncidentResult> {
  const now = deps.clock.now()
  const detectedAt = input.detected_at ?? now
  if (detectedAt > now)
    return { ok: false, code: 'in_future', message: 'detected_at cannot be in the future' }
  const id = uuidv7(now)
  await insertIncident(deps.db, {
    id,
    title: input.title,
    description: input.description ?? '',
    detected_at: detectedAt,
    nature: JSON.stringify(input.nature ?? []),
    data_categories: JSON.stringify(input.data_categories ?? []),
    people_affected: input.people_affected ?? null,
    records_affected: input.records_affected ?? null,
    measures: input.measures ?? null,
    created_at: now,
    created_by: actor,
    updated_at: now,
  })
  return { ok: true, incident: (await getIncident(deps, id))! }
}

async function change(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  apply: (row: IncidentRow, now: number) => Promise<IncidentResult | Partial<IncidentRow>>,
): Promise<IncidentResult> {
  const row = await findIncident(deps.db, id)
  if (!row) return notFound
  if (row.closed_at !== null) return closed
  const now = deps.clock.now()
  const changes = await apply(row, now)
  if ('ok' in changes) return changes as IncidentResult
  await updateIncidentRow(deps.db, id, { ...changes, updated_at: now })
  return { ok: true, incident: (await getIncident(deps, id))! }
}

/** Facts learnt along the way (Art. 33(4): information may be provided in phases). */
export function updateIncidentFacts(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  facts: IncidentFacts,
): Promise<IncidentResult> {
  return change(deps, id, async () => ({
    ...(facts.title !== undefined && { title: facts.title }),
    ...(facts.description !== undefined && { description: facts.description }),
    ...(facts.nature !== undefined && { nature: JSON.stringify(facts.nature) }),
    ...(facts.data_categories !== undefined && {
      data_categories: JSON.stringify(facts.data_categories),
    }),
    ...(facts.people_affected !== undefined && { people_affected: facts.people_affected }),
    ...(facts.records_affected !== undefined && { records_affected: facts.records_affected }),
    ...(facts.measures !== undefined && { measures: facts.measures }),
  }))
}

/** The risk to people's rights and freedoms: `unlikely` stops the clock (no notification due). */
export function assessIncident(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  input: { risk: IncidentRisk; assessment: string },
): Promise<IncidentResult> {
  return change(deps, id, async (_row, now) => ({
    risk: input.risk,
    assessment: input.assessment,
    assessed_at: now,
  }))
}

/** The notification to the supervisory authority; after 72 hours, only with the reasons for the delay. */
export function recordAuthorityNotification(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  input: { notified_at?: number; reference?: string | null; delay_reason?: string | null },
): Promise<IncidentResult> {
  return change(deps, id, async (row, now) => {
    const at = input.notified_at ?? now
    if (at > now)
      return { ok: false, code: 'in_future', message: 'notified_at cannot be in the future' }
    if (at > row.detected_at + NOTIFICATION_DEADLINE_MS && !input.delay_reason?.trim())
      return {
        ok: false,
        code: 'delay_reason_required',
        message:
          'Notified more than 72 hours after detection: give the reasons for the delay (Art. 33(1))',
      }
    return {
      authority_notified_at: at,
      authority_reference: input.reference ?? null,
      delay_reason: input.delay_reason ?? null,
    }
  })
}

/**
 * People told of the breach (Art. 34(1)-(2)): `notice` says how and what; or, with `notified: false`,
 * why they need not be (Art. 34(3)), which does not stop the register from showing the decision.
 */
export function recordPeopleNotification(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  input: { notified: boolean; notice: string; notified_at?: number },
): Promise<IncidentResult> {
  return change(deps, id, async (row, now) => {
    if (row.assessed_at === null)
      return { ok: false, code: 'not_assessed', message: 'Assess the risk first' }
    const at = input.notified_at ?? now
    if (at > now)
      return { ok: false, code: 'in_future', message: 'notified_at cannot be in the future' }
    return { people_notified_at: input.notified ? at : null, people_notice: input.notice }
  })
}

/** Closes the incident with the measures taken (Art. 33(3)(d)); its record stays. */
export function closeIncident(
  deps: Pick<Deps, 'db' | 'clock'>,
  id: string,
  input: { measures?: string | null },
): Promise<IncidentResult> {
  return change(deps, id, async (row, now) => ({
    closed_at: now,
    measures: input.measures ?? row.measures,
  }))
}

/** The outbox row of a reminder: one per incident and mark (a second scheduler run adds none). */
export const reminderOutboxId = (incidentId: string, hours: 48 | 66) =>
  `incident-reminder:${incidentId}:${hours}`

/**
 * The scheduled job: for every open incident whose clock runs, the reminder of the latest mark passed
 * (48 or 66 hours after detection) that was not sent yet; a job that was down past both sends only the
 * 66-hour one. Each reminder is marked in the unit that queues its mail.
 */
export async function sendIncidentReminders(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock' | 'logger'>,
): Promise<number> {
  const now = deps.clock.now()
  let queued = 0
  for (const row of await incidentsAwaitingNotification(deps.db, now - 48 * HOUR_MS)) {
    const elapsed = now - row.detected_at
    const hours: 48 | 66 | null =
      elapsed >= 66 * HOUR_MS && row.reminder_66_at === null
        ? 66
        : elapsed >= 48 * HOUR_MS && row.reminder_48_at === null && row.reminder_66_at === null
          ? 48
          : null
    if (hours === null) continue
    const queries: CompiledQuery[] = [
      markReminderQuery(deps.db, row.id, `reminder_${hours}_at`, now),
    ]
    if (hours === 66 && row.reminder_48_at === null)
      queries.push(markReminderQuery(deps.db, row.id, 'reminder_48_at', now))
    queries.push(
      enqueueQuery(
        deps.db,
        now,
        { kind: 'mail.incident_reminder', payload: { incidentId: row.id, hours } },
        reminderOutboxId(row.id, hours),
      ),
    )
    try {
      await deps.atomic(queries)
      queued++
    } catch (err) {
      // Another run queued it first (the outbox id is taken): nothing to add.
      if (!/UNIQUE constraint failed: outbox\.id/.test(String((err as Error)?.message))) throw err
    }
  }
  return queued
}
