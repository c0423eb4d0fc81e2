/**
 * @module /admin/requests (requests.manage): the queue of data-subject requests (received, verified,
 * due, completed; overdue first), a request's page (its history and notes, the identity check, the
 * extension of Art. 12(3) mailed to the person, completion) and recording a request that came by post,
 * phone, e-mail or in person. The domain is src/domain/admin/requests.ts; the admin API does the same
 * (src/routes/api/admin/requests.ts).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  completeRequest,
  DSR_KINDS,
  DSR_VIAS,
  extendRequest,
  MAX_EXTENSION_MONTHS,
  monthsAfter,
  noteRequest,
  recordStaffRequest,
  requestDetails,
  requestQueue,
  verifyRequest,
  type QueueItem,
  type RequestResult,
} from '../../domain/admin/requests.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, adminPage, field, guard } from './context.ts'
import { label, when } from './format.ts'

const ID = /^[0-9A-Za-z.-]{1,80}$/

const row = (r: QueueItem, locale: Locale) => ({
  ...r,
  kindLabel: label(locale, 'kind', r.kind),
  viaLabel: r.via ? label(locale, 'via', r.via) : label(locale, 'channel', r.channel),
  received: when(r.receivedAt, locale),
  verified: r.verifiedAt === null ? '—' : when(r.verifiedAt, locale),
  due: when(r.dueAt, locale),
  completed: r.completedAt === null ? '—' : when(r.completedAt, locale),
})

export function requestRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/requests', 'requests.manage', async (c) => {
    const locale = adminLocale(c)
    const queue = await requestQueue(deps)
    return adminPage(deps, c, 'admin/requests', {
      titleKey: 'admin.requests.title',
      data: {
        open: queue.open.map((r) => row(r, locale)),
        completed: queue.completed.map((r) => row(r, locale)),
        overdue: queue.open.filter((r) => r.overdue).length,
      },
    })
  })

  const newForm = (c: Context, error: string | null = null, status: 200 | 400 = 200) => {
    const locale = adminLocale(c)
    return adminPage(deps, c, 'admin/request-new', {
      titleKey: 'admin.requests.new',
      status,
      data: {
        error,
        kinds: DSR_KINDS.map((k) => ({ value: k, label: label(locale, 'kind', k) })),
        vias: DSR_VIAS.map((v) => ({ value: v, label: label(locale, 'via', v) })),
        today: new Date(deps.clock.now()).toISOString().slice(0, 10),
      },
    })
  }
  guard(deps, app, 'GET', '/requests/new', 'requests.manage', (c) => newForm(c))
  guard(deps, app, 'POST', '/requests', 'requests.manage', async (c) => {
    const date = await field(c, 'received')
    const received = /^\d{4}-\d{2}-\d{2}$/.test(date) ? Date.parse(`${date}T12:00:00Z`) : undefined
    const now = deps.clock.now()
    const r = await recordStaffRequest(
      deps,
      {
        kind: await field(c, 'kind'),
        via: await field(c, 'via'),
        // A letter dated today is received now; an earlier one at noon UTC of its day.
        receivedAt: received === undefined || received > now ? undefined : received,
        contact: (await field(c, 'contact')).slice(0, 254),
        replyEmail: (await field(c, 'reply')).slice(0, 254),
        identity: (await field(c, 'identity')).slice(0, 2_000),
        note: (await field(c, 'note')).slice(0, 2_000),
      },
      actorOf(deps, c),
    )
    if (!r.ok) return newForm(c, t(adminLocale(c), `admin.requests.error.${r.code}`), 400)
    return c.redirect(`/admin/requests/${r.id}?done=recorded`, 303)
  })

  const requestPage = async (c: Context, error: string | null = null, status: 200 | 400 = 200) => {
    const id = c.req.param('id') ?? ''
    const locale = adminLocale(c)
    const r = ID.test(id) ? await requestDetails(deps, id) : undefined
    if (!r) return adminMessage(deps, c, 404, 'admin.request.notFound')
    const done = c.req.query('done')
    const lastDayToExtend = monthsAfter(r.receivedAt, 1)
    return adminPage(deps, c, 'admin/request', {
      titleKey: 'admin.request.title',
      status,
      data: {
        r: {
          ...row(r, locale),
          replyTo: r.replyTo,
          extensionMonths: r.extensionMonths,
          extensionReason: r.extensionReason,
          open: r.completedAt === null,
          canExtend: r.completedAt === null && !r.extended && deps.clock.now() <= lastDayToExtend,
          lastDayToExtend: when(lastDayToExtend, locale),
          acts: r.contactId !== null && (r.kind === 'erase' || r.kind === 'object'),
        },
        history: r.history.map((h) => ({
          ...h,
          when: when(h.at, locale),
          stepLabel: label(locale, 'step', h.step),
        })),
        months: Array.from({ length: MAX_EXTENSION_MONTHS }, (_, i) => i + 1),
        notice:
          done &&
          ['recorded', 'verified', 'noted', 'extended', 'mailed', 'completed'].includes(done)
            ? t(locale, `admin.request.done.${done}`)
            : null,
        error,
      },
    })
  }
  guard(deps, app, 'GET', '/requests/:id', 'requests.manage', (c) => requestPage(c))

  const act =
    (run: (c: Context, id: string, text: string) => Promise<RequestResult>, done: string) =>
    async (c: Context) => {
      const id = c.req.param('id') ?? ''
      const text = (await field(c, 'reason')).trim()
      const locale = adminLocale(c)
      if (!text) return requestPage(c, t(locale, 'admin.error.reasonRequired'), 400)
      const r = await run(c, id, text)
      if (!r.ok)
        return r.code === 'not_found'
          ? adminMessage(deps, c, 404, 'admin.request.notFound')
          : requestPage(c, t(locale, `admin.requests.error.${r.code}`), 400)
      if (r.mailed) c.set('outboxPending', true)
      return c.redirect(`/admin/requests/${id}?done=${r.mailed ? 'mailed' : done}`, 303)
    }
  guard(
    deps,
    app,
    'POST',
    '/requests/:id/verify',
    'requests.manage',
    act((c, id, text) => verifyRequest(deps, id, text, actorOf(deps, c)), 'verified'),
  )
  guard(
    deps,
    app,
    'POST',
    '/requests/:id/note',
    'requests.manage',
    act((c, id, text) => noteRequest(deps, id, text, actorOf(deps, c)), 'noted'),
  )
  guard(
    deps,
    app,
    'POST',
    '/requests/:id/extend',
    'requests.manage',
    act(
      async (c, id, text) =>
        extendRequest(
          deps,
          id,
          { months: Number(await field(c, 'months')), reason: text },
          actorOf(deps, c),
        ),
      'extended',
    ),
  )
  guard(
    deps,
    app,
    'POST',
    '/requests/:id/complete',
    'requests.manage',
    act((c, id, text) => completeRequest(deps, id, text, actorOf(deps, c)), 'completed'),
  )
}
