/**
 * @module /admin/contacts: find a contact (exact address, Mautic id or contact id), its page (consent
 * per purpose, the ledger's events with the wording shown and — for roles allowed personal data — their
 * evidence, its requests, its Mautic contacts), the printable proof page, the signed receipt and the
 * data export (a fresh second factor first), and what staff do on the person's behalf, each with a
 * reason: withdraw a purpose, record an objection, erase (a fresh second factor first). The domain is
 * src/domain/admin/contacts.ts; the admin API does the same (src/routes/api/admin/contacts.ts).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  findContactForStaff,
  staffContactView,
  staffErase,
  staffExport,
  staffObject,
  staffReceipt,
  staffWithdraw,
  type StaffContact,
} from '../../domain/admin/contacts.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { can } from '../../domain/admin/permissions.ts'
import type { LoadedSession } from '../../domain/admin/sessions.ts'
import { personalDataCsv } from '../../domain/rights/data-export-csv.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, adminPage, field, guard } from './context.ts'
import { label, when } from './format.ts'

const ID = /^[0-9a-f-]{36}$/

/** After a fresh second factor, back to the contact's page (the form is sent again from there). */
const toContact = (c: Context) => {
  const id = c.req.param('id') ?? ''
  return ID.test(id) ? `/admin/contacts/${id}` : '/admin/contacts'
}

/** What an event's evidence holds, as label and value lines (values as text). */
const evidenceLines = (evidence: Record<string, unknown> | null) =>
  evidence
    ? Object.entries(evidence).map(([k, v]) => ({
        key: k,
        value: typeof v === 'string' ? v : JSON.stringify(v),
      }))
    : []

export function contactRoutes(deps: Deps, app: Hono) {
  guard(deps, app, 'GET', '/contacts', 'contacts.read', async (c) => {
    const q = (c.req.query('q') ?? '').trim()
    if (q) {
      const found = await findContactForStaff(deps, q)
      if (found) return c.redirect(`/admin/contacts/${found.id}`, 303)
    }
    return adminPage(deps, c, 'admin/contacts', {
      titleKey: 'admin.contacts.title',
      status: q ? 404 : 200,
      data: { q, notFound: q !== '' },
    })
  })

  const contactPage = async (
    c: Context,
    s: LoadedSession,
    extra: { error?: string; status?: 200 | 400 | 404 } = {},
  ) => {
    const id = c.req.param('id') ?? ''
    const locale = adminLocale(c)
    const personal = can(s.user.role, 'contacts.personal')
    const contact = ID.test(id) ? await staffContactView(deps, id, { personal }) : undefined
    if (!contact) return adminMessage(deps, c, 404, 'admin.contact.notFound')
    if (personal)
      await recordAudit(deps, {
        ...actorOf(deps, c),
        action: 'contact.view',
        target: `contact:${id}`,
      })
    return adminPage(deps, c, 'admin/contact', {
      titleKey: 'admin.contact.title',
      status: extra.status,
      data: contactView(deps, c, s, locale, contact, personal, extra.error ?? null),
    })
  }
  guard(deps, app, 'GET', '/contacts/:id', 'contacts.read', (c, s) => contactPage(c, s))

  // The printable proof: every event with its wording and evidence (personal data).
  guard(deps, app, 'GET', '/contacts/:id/evidence', 'contacts.personal', async (c) => {
    const id = c.req.param('id') ?? ''
    const locale = adminLocale(c)
    const contact = ID.test(id)
      ? await staffContactView(deps, id, { personal: true, limit: Infinity })
      : undefined
    if (!contact) return adminMessage(deps, c, 404, 'admin.contact.notFound')
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'contact.proof',
      target: `contact:${id}`,
    })
    return adminPage(deps, c, 'admin/contact-proof', {
      titleKey: 'admin.proof.title',
      data: {
        ...contactView(deps, c, c.get('admin')!, locale, contact, true, null),
        issued: when(deps.clock.now(), locale),
        issuer: deps.config.publicUrl,
        jwks: `${deps.config.publicUrl}/.well-known/jwks.json`,
      },
    })
  })

  const reasonOrPage = async (c: Context, s: LoadedSession) => {
    const reason = (await field(c, 'reason')).trim().slice(0, 500)
    if (!reason)
      return {
        ok: false as const,
        page: await contactPage(c, s, {
          error: t(adminLocale(c), 'admin.error.reasonRequired'),
          status: 400,
        }),
      }
    return { ok: true as const, reason }
  }
  const done = (c: Context, what: string) =>
    c.redirect(`/admin/contacts/${c.req.param('id')}?done=${what}`, 303)

  guard(deps, app, 'POST', '/contacts/:id/withdraw', 'contacts.act', async (c, s) => {
    const r = await reasonOrPage(c, s)
    if (!r.ok) return r.page
    const purpose = await field(c, 'purpose')
    const res = await staffWithdraw(deps, c.req.param('id') ?? '', [purpose], {
      ...actorOf(deps, c),
      reason: r.reason,
      via: 'console',
    })
    if (res.ok) c.set('outboxPending', true)
    return res.ok ? done(c, 'withdrawn') : adminMessage(deps, c, 404, 'admin.contact.notFound')
  })

  guard(deps, app, 'POST', '/contacts/:id/object', 'contacts.act', async (c, s) => {
    const r = await reasonOrPage(c, s)
    if (!r.ok) return r.page
    const res = await staffObject(deps, c.req.param('id') ?? '', {
      ...actorOf(deps, c),
      reason: r.reason,
      via: 'console',
      requestId: (await field(c, 'request')) || undefined,
    })
    if (res.ok) c.set('outboxPending', true)
    return res.ok ? done(c, 'objected') : adminMessage(deps, c, 404, 'admin.contact.notFound')
  })

  guard(
    deps,
    app,
    'POST',
    '/contacts/:id/erase',
    'contacts.erase',
    async (c, s) => {
      const r = await reasonOrPage(c, s)
      if (!r.ok) return r.page
      if ((await field(c, 'confirm')) !== 'yes')
        return contactPage(c, s, {
          error: t(adminLocale(c), 'admin.contact.eraseConfirmNeeded'),
          status: 400,
        })
      const res = await staffErase(deps, c.req.param('id') ?? '', {
        ...actorOf(deps, c),
        reason: r.reason,
        via: 'console',
        requestId: (await field(c, 'request')) || undefined,
      })
      if (res.ok) c.set('outboxPending', true)
      return res.ok ? done(c, 'erased') : adminMessage(deps, c, 404, 'admin.contact.notFound')
    },
    { stepUp: true, back: toContact },
  )

  // Downloads of personal data: a POST (its reason in the form), after a fresh second factor.
  guard(
    deps,
    app,
    'POST',
    '/contacts/:id/receipt',
    'exports.personal',
    async (c, s) => {
      const r = await reasonOrPage(c, s)
      if (!r.ok) return r.page
      const id = c.req.param('id') ?? ''
      const proof = ID.test(id)
        ? await staffReceipt(deps, id, { ...actorOf(deps, c), reason: r.reason })
        : undefined
      if (!proof) return adminMessage(deps, c, 404, 'admin.contact.notFound')
      c.header('Content-Disposition', `attachment; filename="consent-receipt-${id}.json"`)
      return c.json(proof)
    },
    { stepUp: true, back: toContact },
  )
  guard(
    deps,
    app,
    'POST',
    '/contacts/:id/export',
    'exports.personal',
    async (c, s) => {
      const r = await reasonOrPage(c, s)
      if (!r.ok) return r.page
      const id = c.req.param('id') ?? ''
      const data = ID.test(id)
        ? await staffExport(deps, id, { ...actorOf(deps, c), reason: r.reason })
        : undefined
      if (!data) return adminMessage(deps, c, 404, 'admin.contact.notFound')
      const csv = (await field(c, 'format')) === 'csv'
      c.header(
        'Content-Disposition',
        `attachment; filename="personal-data-${id}.${csv ? 'csv' : 'json'}"`,
      )
      if (!csv) return c.json(data)
      c.header('Content-Type', 'text/csv; charset=utf-8')
      return c.body(personalDataCsv(data))
    },
    { stepUp: true, back: toContact },
  )
}

function contactView(
  deps: Deps,
  c: Context,
  s: LoadedSession,
  locale: Locale,
  contact: StaffContact,
  personal: boolean,
  error: string | null,
) {
  const role = s.user.role
  const active = contact.status === 'active'
  const doneKey = c.req.query('done')
  const request = c.req.query('request')
  const mautic = deps.config.mautic?.url.replace(/\/+$/, '')
  return {
    contact: {
      ...contact,
      created: when(contact.createdAt, locale),
      objected: contact.objectedAt === null ? null : when(contact.objectedAt, locale),
      erased: contact.erasedAt === null ? null : when(contact.erasedAt, locale),
      statusLabel: t(locale, `admin.contact.status.${contact.status}`),
    },
    personal,
    error,
    notice:
      doneKey && ['withdrawn', 'objected', 'erased'].includes(doneKey)
        ? t(locale, `admin.contact.done.${doneKey}`)
        : null,
    request: request && /^[0-9A-Za-z.-]{1,80}$/.test(request) ? request : '',
    states: contact.states.map((st) => ({
      ...st,
      statusLabel: label(locale, 'state', st.status),
      version: st.noticeVersion === null ? '—' : `v${st.noticeVersion} (${st.noticeLocale})`,
      granted: when(st.grantedAt, locale),
      changed: when(st.changedAt, locale),
    })),
    withdrawable: contact.states
      .filter((st) => st.status === 'granted' || st.status === 'pending')
      .map((st) => st.purpose),
    can: {
      act: active && can(role, 'contacts.act'),
      erase: active && can(role, 'contacts.erase'),
      exports: can(role, 'exports.personal'),
      requests: can(role, 'requests.manage'),
    },
    events: contact.events.map((e) => ({
      ...e,
      occurred: when(e.occurredAt, locale),
      recorded: when(e.recordedAt, locale),
      actionLabel: label(locale, 'action', e.action),
      evidence: evidenceLines(e.evidence),
      hasEvidence: e.evidence !== null,
    })),
    moreEvents: contact.eventCount > contact.events.length,
    eventCount: contact.eventCount,
    requests: contact.requests.map((r) => ({
      ...r,
      kindLabel: label(locale, 'kind', r.kind),
      received: when(Date.parse(r.receivedAt), locale),
      due: when(Date.parse(r.dueAt), locale),
      completed: r.completedAt ? when(Date.parse(r.completedAt), locale) : null,
    })),
    mautic: contact.mauticIds.map((m) => ({
      id: m,
      url: mautic ? `${mautic}/s/contacts/view/${m}` : null,
    })),
  }
}
