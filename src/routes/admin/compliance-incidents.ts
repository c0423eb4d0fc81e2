/**
 * @module The breach register screens (GDPR Art. 33, 34; src/domain/compliance/incidents.ts): the list
 * and each incident with the 72-hour clock from detection on every screen, recording one, the facts
 * learnt in phases (Art. 33(4)), the assessment of the risk to people, the notification to the
 * authority (with the reasons for a delay past 72 hours), telling the people or why not (Art. 34(3)),
 * and closing it. The console's layout also shows each open incident's clock (compliance-banner.ts).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { FIELD_CATEGORIES } from '../../domain/compliance/classify.ts'
import {
  assessIncident,
  BREACH_NATURES,
  closeIncident,
  createIncident,
  getIncident,
  INCIDENT_RISKS,
  listIncidents,
  recordAuthorityNotification,
  recordPeopleNotification,
  updateIncidentFacts,
  type IncidentFacts,
  type IncidentResult,
  type IncidentView,
} from '../../domain/compliance/incidents.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, guard } from './context.ts'
import {
  audit,
  clockView,
  compliancePage,
  form,
  isOneOf,
  labelOf,
  many,
  one,
  parseUtcDateTime,
  parseWhole,
  pick,
  when,
  withLang,
} from './compliance-shared.ts'

type Values = Record<string, string | string[]>
const STATUSES = ['open', 'closed', 'all'] as const
const MAX_TEXT = 10_000

function incidentLines(i: IncidentView, locale: Locale) {
  const list = (prefix: string, items: string[]) =>
    items.length ? items.map((x) => t(locale, `${prefix}.${x}`)).join(', ') : '—'
  return {
    ...i,
    stageLabel: t(locale, `admin.compliance.incident.stage.${i.stage}`),
    clock: clockView(i.clock, locale),
    detected: when(i.detected_at, locale),
    natureLabel: list('admin.compliance.incident.nature', i.nature),
    categoriesLabel: list('compliance.category', i.data_categories),
    riskLabel: labelOf(locale, 'admin.compliance.incident.risk', i.risk),
    assessed: when(i.assessed_at, locale),
    authorityNotified: when(i.authority_notified_at, locale),
    peopleNotified: when(i.people_notified_at, locale),
    closed: when(i.closed_at, locale),
    created: when(i.created_at, locale),
    reminders: i.reminders_sent.map((r) =>
      t(locale, 'admin.compliance.incident.reminder', { hours: r.hours, when: when(r.at, locale) }),
    ),
    open: i.closed_at === null,
    peopleCount: i.people_affected === null ? '—' : String(i.people_affected),
    recordsCount: i.records_affected === null ? '—' : String(i.records_affected),
    peopleDecided: i.people_notice !== null,
  }
}

/** The facts a form gives (create and update share them). */
function parseFacts(f: Values): { ok: true; facts: IncidentFacts } | { ok: false; error: string } {
  const nature = pick(many(f, 'nature'), BREACH_NATURES)
  const categories = pick(many(f, 'data_categories'), FIELD_CATEGORIES)
  if (!nature || !categories) return { ok: false, error: 'choice' }
  const people = parseWhole(one(f, 'people_affected'), 0, 1e9)
  const records = parseWhole(one(f, 'records_affected'), 0, 1e9)
  if (people === null || records === null) return { ok: false, error: 'count' }
  const description = one(f, 'description')
  const measures = one(f, 'measures')
  if (description.length > MAX_TEXT || measures.length > MAX_TEXT)
    return { ok: false, error: 'long' }
  return {
    ok: true,
    facts: {
      description,
      nature,
      data_categories: categories,
      people_affected: people ?? null,
      records_affected: records ?? null,
      measures: measures || null,
    },
  }
}

/** What a facts form shows: what was posted, or the incident's, or nothing yet. */
function factValues(locale: Locale, i: IncidentView | null, posted?: Values) {
  const v = (name: string, fallback: string) => (posted ? one(posted, name) : fallback)
  const nature = posted ? many(posted, 'nature') : (i?.nature ?? [])
  const categories = posted ? many(posted, 'data_categories') : (i?.data_categories ?? [])
  return {
    title: v('title', i?.title ?? ''),
    detected: v('detected_at', ''),
    description: v('description', i?.description ?? ''),
    people: v('people_affected', i?.people_affected?.toString() ?? ''),
    records: v('records_affected', i?.records_affected?.toString() ?? ''),
    measures: v('measures', i?.measures ?? ''),
    natures: BREACH_NATURES.map((n) => ({
      value: n,
      label: t(locale, `admin.compliance.incident.nature.${n}`),
      help: t(locale, `admin.compliance.incident.natureHelp.${n}`),
      checked: nature.includes(n),
    })),
    categories: FIELD_CATEGORIES.map((x) => ({
      value: x,
      label: t(locale, `compliance.category.${x}`),
      checked: categories.includes(x),
    })),
  }
}

/** Now, in UTC, as a datetime-local input shows it (the form reads times as UTC). */
const nowInput = (ms: number) => new Date(ms).toISOString().slice(0, 16)

export function incidentRoutes(deps: Deps, app: Hono) {
  const listPage = async (c: Context, posted?: Values, error?: string, status?: 400) => {
    const locale = adminLocale(c)
    const q = c.req.query('status') ?? ''
    const filter = isOneOf(q, STATUSES) ? q : 'open'
    const incidents = await listIncidents(deps, { status: filter })
    return compliancePage(deps, c, 'incidents', {
      titleKey: 'admin.compliance.incidents.title',
      status,
      data: {
        incidents: incidents.map((i) => incidentLines(i, locale)),
        statuses: STATUSES.map((s) => ({
          value: s,
          label: t(locale, `admin.compliance.incidents.status.${s}`),
          selected: s === filter,
        })),
        values: factValues(locale, null, posted),
        now: nowInput(deps.clock.now()),
        nowText: when(deps.clock.now(), locale),
        error: error ? t(locale, `admin.compliance.incident.error.${error}`) : null,
      },
    })
  }
  guard(deps, app, 'GET', '/compliance/incidents', 'compliance.read', (c) => listPage(c))

  guard(deps, app, 'POST', '/compliance/incidents', 'compliance.manage', async (c) => {
    const f = await form(c)
    const title = one(f, 'title')
    if (title === '' || title.length > 200) return listPage(c, f, 'title', 400)
    const detected = parseUtcDateTime(one(f, 'detected_at'))
    if (Number.isNaN(detected)) return listPage(c, f, 'date', 400)
    const parsed = parseFacts(f)
    if (!parsed.ok) return listPage(c, f, parsed.error, 400)
    const r = await createIncident(
      deps,
      { ...parsed.facts, title, detected_at: detected },
      actorOf(deps, c).actor,
    )
    if (!r.ok) return listPage(c, f, r.code, 400)
    await audit(deps, c, 'incident.create', `incident:${r.incident.id}`, {
      title,
      detected_at: r.incident.detected_at,
    })
    return c.redirect(
      withLang(c, `/admin/compliance/incidents/${r.incident.id}`, { done: 'created' }),
      303,
    )
  })

  const notFound = (c: Context) => adminMessage(deps, c, 404, 'admin.compliance.incidents.notFound')

  const detailPage = async (
    c: Context,
    i: IncidentView,
    opts: { posted?: Values; form?: string; error?: string; status?: 400 | 409 } = {},
  ) => {
    const locale = adminLocale(c)
    const posted = (name: string) => (opts.posted && opts.form === name ? opts.posted : undefined)
    const done = c.req.query('done')
    const a = posted('authority')
    const p = posted('people')
    const s = posted('assessment')
    return compliancePage(deps, c, 'incident', {
      titleKey: 'admin.compliance.incident.title',
      params: { title: i.title },
      status: opts.status,
      data: {
        incident: incidentLines(i, locale),
        values: factValues(locale, i, posted('facts')),
        risks: INCIDENT_RISKS.map((r) => ({
          value: r,
          label: t(locale, `admin.compliance.incident.risk.${r}`),
          help: t(locale, `admin.compliance.incident.riskHelp.${r}`),
          checked: (s ? one(s, 'risk') : i.risk) === r,
        })),
        assessment: s ? one(s, 'assessment') : (i.assessment ?? ''),
        authority: {
          notified: a ? one(a, 'notified_at') : '',
          reference: a ? one(a, 'reference') : (i.authority_reference ?? ''),
          delay: a ? one(a, 'delay_reason') : (i.delay_reason ?? ''),
        },
        people: {
          notified: p
            ? one(p, 'notified')
            : i.people_notice === null
              ? ''
              : i.people_notified_at
                ? 'yes'
                : 'no',
          notice: p ? one(p, 'notice') : (i.people_notice ?? ''),
        },
        closeMeasures: posted('close') ? one(opts.posted!, 'measures') : (i.measures ?? ''),
        now: nowInput(deps.clock.now()),
        nowText: when(deps.clock.now(), locale),
        notice:
          done && ['created', 'facts', 'assessment', 'authority', 'people', 'close'].includes(done)
            ? t(locale, `admin.compliance.incident.done.${done}`)
            : null,
        error: opts.error ? t(locale, `admin.compliance.incident.error.${opts.error}`) : null,
      },
    })
  }

  guard(deps, app, 'GET', '/compliance/incidents/:id', 'compliance.read', async (c) => {
    const i = await getIncident(deps, c.req.param('id') ?? '')
    return i ? detailPage(c, i) : notFound(c)
  })

  /** One step of the register: parse its form, call the domain, audit, back to the incident. */
  const step = (
    path: string,
    action: string,
    apply: (
      id: string,
      f: Values,
    ) => Promise<IncidentResult | { ok: false; code: 'invalid'; error: string }>,
  ) =>
    guard(
      deps,
      app,
      'POST',
      `/compliance/incidents/:id/${path}`,
      'compliance.manage',
      async (c) => {
        const id = c.req.param('id') ?? ''
        const before = await getIncident(deps, id)
        if (!before) return notFound(c)
        const f = await form(c)
        const r = await apply(id, f)
        if (!r.ok) {
          if (r.code === 'not_found') return notFound(c)
          const error = r.code === 'invalid' ? r.error : r.code
          const status = r.code === 'closed' || r.code === 'not_assessed' ? 409 : 400
          return detailPage(c, before, { posted: f, form: path, error, status })
        }
        await audit(deps, c, `incident.${action}`, `incident:${id}`, {
          stage: r.incident.stage,
          hours_elapsed: r.incident.clock.hours_elapsed,
          overdue: r.incident.clock.overdue,
        })
        return c.redirect(withLang(c, `/admin/compliance/incidents/${id}`, { done: path }), 303)
      },
    )

  const invalid = (error: string) => ({ ok: false as const, code: 'invalid' as const, error })

  step('facts', 'update', async (id, f) => {
    const title = one(f, 'title')
    if (title === '' || title.length > 200) return invalid('title')
    const parsed = parseFacts(f)
    if (!parsed.ok) return invalid(parsed.error)
    return updateIncidentFacts(deps, id, { ...parsed.facts, title })
  })

  step('assessment', 'assess', async (id, f) => {
    const risk = one(f, 'risk')
    const assessment = one(f, 'assessment')
    if (!isOneOf(risk, INCIDENT_RISKS)) return invalid('risk')
    if (assessment === '' || assessment.length > MAX_TEXT) return invalid('assessment')
    return assessIncident(deps, id, { risk, assessment })
  })

  step('authority', 'authority_notified', async (id, f) => {
    const at = parseUtcDateTime(one(f, 'notified_at'))
    if (Number.isNaN(at)) return invalid('date')
    const reference = one(f, 'reference')
    const delay = one(f, 'delay_reason')
    if (reference.length > 200 || delay.length > MAX_TEXT) return invalid('long')
    return recordAuthorityNotification(deps, id, {
      notified_at: at,
      reference: reference || null,
      delay_reason: delay || null,
    })
  })

  step('people', 'people_notified', async (id, f) => {
    const notified = one(f, 'notified')
    const notice = one(f, 'notice')
    if (notified !== 'yes' && notified !== 'no') return invalid('notified')
    if (notice === '' || notice.length > MAX_TEXT) return invalid('notice')
    return recordPeopleNotification(deps, id, { notified: notified === 'yes', notice })
  })

  step('close', 'close', async (id, f) => {
    const measures = one(f, 'measures')
    if (measures.length > MAX_TEXT) return invalid('long')
    return closeIncident(deps, id, { measures: measures || null })
  })
}
