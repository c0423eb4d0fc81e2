/**
 * @module Corrections and erasures passed on to each recipient (GDPR Art. 19;
 * src/domain/compliance/recipients.ts): a data-subject request's recipients and where each notice
 * stands (/admin/requests/{id}/recipients, which the requests screen links to), the tasks staff carry
 * out by hand for recipients without a webhook (and webhook deliveries that failed for good), and
 * marking one done. A task's page shows whom it is about and what changed: personal data, so it needs
 * `contacts.personal`, is never cached, and each opening is audited; once done, that is forgotten.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  completeRecipientTask,
  listRecipientNotices,
  openRecipientTask,
  requestRecipients,
  type RecipientStatusView,
} from '../../domain/compliance/recipients.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, guard } from './context.ts'
import { audit, compliancePage, form, one, when, withLang } from './compliance-shared.ts'

function noticeLine(n: RecipientStatusView, locale: Locale) {
  return {
    id: n.id,
    requestId: n.request_id,
    processor: n.processor,
    kind: t(locale, `admin.compliance.notice.kind.${n.kind}`),
    channel: t(locale, `admin.compliance.notice.channel.${n.channel}`),
    status: t(locale, `admin.compliance.notice.status.${n.status}`),
    task: n.channel === 'task' || n.status === 'failed',
    open: n.status === 'open' || n.status === 'failed',
    attempts: n.attempts,
    lastError: n.last_error,
    created: when(n.created_at, locale),
    updated: when(n.updated_at, locale),
    completed: n.completed_at ? when(n.completed_at, locale) : null,
    completedBy: n.completed_by,
    note: n.note,
  }
}

export function recipientRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/requests/:id/recipients', 'requests.manage', async (c) => {
    const locale = adminLocale(c)
    const id = c.req.param('id') ?? ''
    const notices = await requestRecipients(deps, id)
    return compliancePage(deps, c, 'request-recipients', {
      titleKey: 'admin.compliance.recipients.title',
      data: { requestId: id, notices: notices.map((n) => noticeLine(n, locale)) },
    })
  })

  const tasksPage = async (c: Context) => {
    const locale = adminLocale(c)
    const [tasks, webhooks] = await Promise.all([
      listRecipientNotices(deps, { channel: 'task', open: true }),
      listRecipientNotices(deps, { channel: 'webhook', open: true }),
    ])
    return compliancePage(deps, c, 'tasks', {
      titleKey: 'admin.compliance.tasks.title',
      data: {
        tasks: tasks.map((n) => noticeLine(n, locale)),
        failed: webhooks.filter((n) => n.status === 'failed').map((n) => noticeLine(n, locale)),
        notice: c.req.query('done') === 'task' ? t(locale, 'admin.compliance.tasks.done') : null,
      },
    })
  }
  guard(deps, app, 'GET', '/compliance/tasks', 'requests.manage', tasksPage)

  const notFound = (c: Context) => adminMessage(deps, c, 404, 'admin.compliance.tasks.notFound')

  guard(deps, app, 'GET', '/compliance/tasks/:id', 'contacts.personal', async (c) => {
    const locale = adminLocale(c)
    const id = c.req.param('id') ?? ''
    const task = await openRecipientTask(deps, id)
    if (!task) return notFound(c)
    if (task.subject) await audit(deps, c, 'recipient_task.open', `notice:${id}`)
    return compliancePage(deps, c, 'task', {
      titleKey: 'admin.compliance.task.title',
      params: { processor: task.processor.name },
      data: {
        task: noticeLine(task, locale),
        subject: task.subject
          ? {
              email: task.subject.email ?? '—',
              changes: Object.entries(task.subject.changes ?? {}).map(([name, value]) => ({
                name,
                value:
                  value === null || value === ''
                    ? t(locale, 'admin.compliance.task.emptied')
                    : value,
              })),
            }
          : null,
      },
    })
  })

  guard(deps, app, 'POST', '/compliance/tasks/:id/done', 'requests.manage', async (c) => {
    const id = c.req.param('id') ?? ''
    const note = one(await form(c), 'note').slice(0, 2000)
    const r = await completeRecipientTask(deps, id, actorOf(deps, c).actor, note || null)
    if (!r.ok)
      return r.code === 'not_found'
        ? notFound(c)
        : adminMessage(deps, c, 409, 'admin.compliance.tasks.notOpen')
    await audit(deps, c, 'recipient_task.done', `notice:${id}`, {
      processor: r.notice.processor.name,
      kind: r.notice.kind,
    })
    return c.redirect(withLang(c, '/admin/compliance/tasks', { done: 'task' }), 303)
  })
}
