/**
 * @module /admin/forms: the hosted opt-in forms (the link a website puts on its pages, a preview in
 * each language, the purposes and wording versions each shows), and which Mautic form field and which
 * Mautic e-mail (or category) means which purpose, with the notice version each Mautic form shows
 * (purposes.read to see, purposes.manage to change; README "Connecting Mautic", 4). The admin API does
 * the same (src/routes/api/admin/forms.ts and /mautic/mappings).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { hostedForms, saveHostedForm } from '../../domain/admin/forms.ts'
import { can } from '../../domain/admin/permissions.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { t } from '../../lib/i18n.ts'
import { listMappings, mapEmail, mapFormField } from '../../mautic/mappings.ts'
import { actorOf, adminLocale, adminPage, field, guard } from './context.ts'

export function formRoutes(deps: Deps, app: Hono) {
  const page = async (c: Context, error: string | null = null, status: 200 | 400 = 200) => {
    const locale = adminLocale(c)
    const [forms, mappings, purposes] = await Promise.all([
      hostedForms(deps),
      listMappings(deps),
      loadPurposes(deps.db, deps.clock.now()),
    ])
    const done = c.req.query('done')
    return adminPage(deps, c, 'admin/forms', {
      titleKey: 'admin.forms.title',
      status,
      data: {
        error,
        notice:
          done && ['form', 'field', 'email'].includes(done)
            ? t(locale, `admin.forms.done.${done}`)
            : null,
        manage: can(c.get('admin')!.user.role, 'purposes.manage'),
        forms: forms.map((f) => ({
          ...f,
          purposes: f.purposes.map((p) => ({
            ...p,
            fr: p.versions.fr === null ? '—' : `v${p.versions.fr}`,
            en: p.versions.en === null ? '—' : `v${p.versions.en}`,
          })),
          snippet: f.snippets[locale],
        })),
        fields: mappings.forms,
        emails: mappings.emails,
        purposes: [...purposes.values()].map((p) => ({
          key: p.key,
          email: p.channel === 'email',
          fr: p.current.fr?.version ?? null,
          en: p.current.en?.version ?? null,
        })),
      },
    })
  }
  guard(deps, app, 'GET', '/forms', 'purposes.read', (c) => page(c))

  const reasonOf = async (c: Context) => (await field(c, 'reason')).trim().slice(0, 500)
  const noReason = (c: Context) => page(c, t(adminLocale(c), 'admin.error.reasonRequired'), 400)

  guard(deps, app, 'POST', '/forms', 'purposes.manage', async (c) => {
    const reason = await reasonOf(c)
    if (!reason) return noReason(c)
    const body = await c.req.parseBody({ all: true })
    const chosen = body.purposes
    const purposes = (Array.isArray(chosen) ? chosen : [chosen]).filter(
      (p): p is string => typeof p === 'string',
    )
    const r = await saveHostedForm(deps, (await field(c, 'key')).trim(), purposes, {
      ...actorOf(deps, c),
      reason,
    })
    if (!r.ok) return page(c, t(adminLocale(c), `admin.forms.error.${r.code}`), 400)
    return c.redirect('/admin/forms?done=form', 303)
  })

  guard(deps, app, 'POST', '/forms/mautic-field', 'purposes.manage', async (c) => {
    const reason = await reasonOf(c)
    if (!reason) return noReason(c)
    const m = {
      formId: (await field(c, 'form_id')).trim(),
      fieldAlias: (await field(c, 'field')).trim(),
      purposeKey: await field(c, 'purpose'),
      noticeVersion: Number(await field(c, 'version')),
      locale: (await field(c, 'locale')) === 'en' ? ('en' as const) : ('fr' as const),
    }
    const r = await mapFormField(deps, m)
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'mautic.map_form',
      target: `form:${m.formId}`,
      outcome: r.ok ? 'ok' : 'failed',
      details: { field: m.fieldAlias, purpose: m.purposeKey, version: m.noticeVersion, reason },
    })
    if (!r.ok) return page(c, r.error, 400)
    return c.redirect('/admin/forms?done=field', 303)
  })

  guard(deps, app, 'POST', '/forms/mautic-email', 'purposes.manage', async (c) => {
    const reason = await reasonOf(c)
    if (!reason) return noReason(c)
    const m = {
      kind: (await field(c, 'kind')) === 'category' ? ('category' as const) : ('email' as const),
      ref: (await field(c, 'ref')).trim(),
      purposeKey: await field(c, 'purpose'),
    }
    const r = await mapEmail(deps, m)
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'mautic.map_email',
      target: `${m.kind}:${m.ref}`,
      outcome: r.ok ? 'ok' : 'failed',
      details: { purpose: m.purposeKey, reason },
    })
    if (!r.ok) return page(c, r.error, 400)
    return c.redirect('/admin/forms?done=email', 303)
  })
}
