/**
 * @module The processors register screens (GDPR Art. 19, 28, 30(1)(d)-(e), 44-49): list, detail,
 * register, edit, archive and restore, and the webhook secret (Standard Webhooks, `whsec_…`) shown
 * once when a webhook is first set or the secret is renewed: only its encrypted form is kept
 * (src/domain/compliance/processors.ts), so the page says so and is never cached.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { FIELD_CATEGORIES } from '../../domain/compliance/classify.ts'
import { listInventory } from '../../domain/compliance/inventory.ts'
import {
  createProcessor,
  getProcessor,
  listProcessors,
  PROCESSOR_ROLES,
  rotateWebhookSecret,
  TRANSFER_BASES,
  updateProcessor,
  type ProcessorInput,
  type ProcessorView,
} from '../../domain/compliance/processors.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { adminLocale, adminMessage, guard } from './context.ts'
import {
  audit,
  compliancePage,
  dateInput,
  day,
  form,
  isOneOf,
  labelOf,
  many,
  one,
  parseDay,
  pick,
  withLang,
} from './compliance-shared.ts'

type Values = Record<string, string | string[]>

function processorLines(p: ProcessorView, locale: Locale) {
  return {
    ...p,
    roleLabel: t(locale, `admin.compliance.role.${p.role}`),
    categories: p.data_categories.length
      ? p.data_categories.map((x) => t(locale, `compliance.category.${x}`)).join(', ')
      : '—',
    transfer: p.third_country
      ? labelOf(locale, 'admin.compliance.transfer', p.transfer_basis)
      : t(locale, 'admin.compliance.processors.inEea'),
    missingBasis: p.third_country && p.transfer_basis === null,
    contract: day(p.contract_signed_at, locale),
    review: day(p.last_review_at, locale),
    channel: t(locale, `admin.compliance.processors.channel.${p.rights_channel}`),
    archived: p.archived_at !== null,
    archivedAt: day(p.archived_at, locale),
  }
}

/** The form's values: those posted, or the processor's (or empty for a new one). */
function formValues(locale: Locale, p: ProcessorView | null, posted?: Values) {
  const v = (name: string, fallback: string) => (posted ? one(posted, name) : fallback)
  const role = v('role', p?.role ?? 'processor')
  const basis = v('transfer_basis', p?.transfer_basis ?? '')
  const categories = posted ? many(posted, 'data_categories') : (p?.data_categories ?? [])
  return {
    name: v('name', p?.name ?? ''),
    country: v('country', p?.country ?? ''),
    contract: v('contract_signed_at', dateInput(p?.contract_signed_at ?? null)),
    review: v('last_review_at', dateInput(p?.last_review_at ?? null)),
    webhook: v('webhook_url', p?.webhook_url ?? ''),
    notify: posted ? one(posted, 'notify_rights') === 'on' : p?.rights_channel !== 'none',
    notes: v('notes', p?.notes ?? ''),
    roles: PROCESSOR_ROLES.map((r) => ({
      value: r,
      label: t(locale, `admin.compliance.role.${r}`),
      selected: r === role,
    })),
    bases: TRANSFER_BASES.map((b) => ({
      value: b,
      label: t(locale, `admin.compliance.transfer.${b}`),
      selected: b === basis,
    })),
    categories: FIELD_CATEGORIES.map((x) => ({
      value: x,
      label: t(locale, `compliance.category.${x}`),
      checked: categories.includes(x),
    })),
  }
}

type Parsed =
  | {
      ok: true
      input: ProcessorInput & { name: string; role: ProcessorView['role']; country: string }
    }
  | { ok: false; error: string }

/** Reads the register's form strictly; every field is sent by the form, so each is set. */
function parse(f: Values): Parsed {
  const name = one(f, 'name')
  if (name === '' || name.length > 200) return { ok: false, error: 'name' }
  const role = one(f, 'role')
  if (!isOneOf(role, PROCESSOR_ROLES)) return { ok: false, error: 'role' }
  const country = one(f, 'country').toUpperCase()
  if (!/^[A-Z]{2}$/.test(country)) return { ok: false, error: 'country' }
  const basis = one(f, 'transfer_basis')
  if (basis !== '' && !isOneOf(basis, TRANSFER_BASES)) return { ok: false, error: 'basis' }
  const categories = pick(many(f, 'data_categories'), FIELD_CATEGORIES)
  if (!categories) return { ok: false, error: 'categories' }
  const contract = parseDay(one(f, 'contract_signed_at'))
  const review = parseDay(one(f, 'last_review_at'))
  if (Number.isNaN(contract) || Number.isNaN(review)) return { ok: false, error: 'date' }
  const webhook = one(f, 'webhook_url')
  const notes = one(f, 'notes')
  if (webhook.length > 2000 || notes.length > 2000) return { ok: false, error: 'long' }
  return {
    ok: true,
    input: {
      name,
      role,
      country,
      data_categories: categories,
      transfer_basis: basis === '' ? null : (basis as ProcessorView['transfer_basis']),
      contract_signed_at: contract ?? null,
      last_review_at: review ?? null,
      webhook_url: webhook || null,
      notify_rights: one(f, 'notify_rights') === 'on',
      notes: notes || null,
    },
  }
}

export function processorRoutes(deps: Deps, app: Hono) {
  const listPage = async (c: Context) => {
    const locale = adminLocale(c)
    const archived = c.req.query('archived') === 'true'
    const processors = await listProcessors(deps, { includeArchived: archived })
    const done = c.req.query('done')
    return compliancePage(deps, c, 'processors', {
      titleKey: 'admin.compliance.processors.title',
      data: {
        processors: processors.map((p) => processorLines(p, locale)),
        archived,
        notice: done === 'archived' ? t(locale, 'admin.compliance.processors.done.archived') : null,
      },
    })
  }
  guard(deps, app, 'GET', '/compliance/processors', 'compliance.read', listPage)

  const editPage = (
    c: Context,
    p: ProcessorView | null,
    posted?: Values,
    error?: string,
    status?: 400,
  ) => {
    const locale = adminLocale(c)
    return compliancePage(deps, c, 'processor-form', {
      titleKey: p ? 'admin.compliance.processors.edit' : 'admin.compliance.processors.new',
      params: { name: p?.name ?? '' },
      status,
      data: {
        processor: p,
        action: p ? `/admin/compliance/processors/${p.id}` : '/admin/compliance/processors',
        values: formValues(locale, p, posted),
        error: error ? t(locale, `admin.compliance.processors.error.${error}`) : null,
      },
    })
  }
  guard(deps, app, 'GET', '/compliance/processors/new', 'compliance.manage', (c) =>
    editPage(c, null),
  )

  /** The secret, once: a page of its own, never cached. */
  const secretPage = (c: Context, p: ProcessorView, secret: string, why: 'new' | 'rotated') => {
    c.header('Cache-Control', 'no-store')
    return compliancePage(deps, c, 'secret', {
      titleKey: 'admin.compliance.secret.title',
      params: { name: p.name },
      data: {
        processor: p,
        secret,
        why: t(adminLocale(c), `admin.compliance.secret.${why}`, { url: p.webhook_url ?? '' }),
      },
    })
  }

  const domainError = (code: string) =>
    code === 'invalid_webhook_url' ? 'webhook' : code === 'invalid_country' ? 'country' : 'name'

  guard(deps, app, 'POST', '/compliance/processors', 'compliance.manage', async (c) => {
    const f = await form(c)
    const parsed = parse(f)
    if (!parsed.ok) return editPage(c, null, f, parsed.error, 400)
    const r = await createProcessor(deps, parsed.input)
    if (!r.ok) return editPage(c, null, f, domainError(r.code), 400)
    await audit(deps, c, 'processor.create', `processor:${r.processor.id}`, {
      name: r.processor.name,
      webhook: r.processor.webhook_url !== null,
    })
    if (r.webhook_secret) return secretPage(c, r.processor, r.webhook_secret, 'new')
    return c.redirect(
      withLang(c, `/admin/compliance/processors/${r.processor.id}`, { done: 'created' }),
      303,
    )
  })

  const notFound = (c: Context) =>
    adminMessage(deps, c, 404, 'admin.compliance.processors.notFound')

  guard(deps, app, 'GET', '/compliance/processors/:id', 'compliance.read', async (c) => {
    const locale = adminLocale(c)
    const p = await getProcessor(deps, c.req.param('id') ?? '')
    if (!p) return notFound(c)
    const fields = (await listInventory(deps)).filter((f) => f.processors.includes(p.id))
    const done = c.req.query('done')
    return compliancePage(deps, c, 'processor', {
      titleKey: 'admin.compliance.processors.detail',
      params: { name: p.name },
      data: {
        processor: processorLines(p, locale),
        fields: fields.map((f) => ({ id: f.id, name: f.name, label: f.label })),
        notice:
          done && ['created', 'saved', 'restored'].includes(done)
            ? t(locale, `admin.compliance.processors.done.${done}`)
            : null,
      },
    })
  })

  guard(deps, app, 'GET', '/compliance/processors/:id/edit', 'compliance.manage', async (c) => {
    const p = await getProcessor(deps, c.req.param('id') ?? '')
    return p ? editPage(c, p) : notFound(c)
  })

  guard(deps, app, 'POST', '/compliance/processors/:id', 'compliance.manage', async (c) => {
    const id = c.req.param('id') ?? ''
    const p = await getProcessor(deps, id)
    if (!p) return notFound(c)
    const f = await form(c)
    const parsed = parse(f)
    if (!parsed.ok) return editPage(c, p, f, parsed.error, 400)
    const r = await updateProcessor(deps, id, parsed.input)
    if (!r.ok)
      return r.code === 'not_found' ? notFound(c) : editPage(c, p, f, domainError(r.code), 400)
    await audit(deps, c, 'processor.update', `processor:${id}`, {
      name: r.processor.name,
      webhook: r.processor.webhook_url !== null,
    })
    if (r.webhook_secret) return secretPage(c, r.processor, r.webhook_secret, 'new')
    return c.redirect(withLang(c, `/admin/compliance/processors/${id}`, { done: 'saved' }), 303)
  })

  for (const [path, archived] of [
    ['archive', true],
    ['restore', false],
  ] as const)
    guard(
      deps,
      app,
      'POST',
      `/compliance/processors/:id/${path}`,
      'compliance.manage',
      async (c) => {
        const id = c.req.param('id') ?? ''
        const r = await updateProcessor(deps, id, { archived })
        if (!r.ok) return notFound(c)
        await audit(deps, c, `processor.${path}`, `processor:${id}`, { name: r.processor.name })
        return c.redirect(
          archived
            ? withLang(c, '/admin/compliance/processors', { done: 'archived' })
            : withLang(c, `/admin/compliance/processors/${id}`, { done: 'restored' }),
          303,
        )
      },
    )

  guard(
    deps,
    app,
    'POST',
    '/compliance/processors/:id/rotate-secret',
    'compliance.manage',
    async (c) => {
      const id = c.req.param('id') ?? ''
      const p = await getProcessor(deps, id)
      const secret = p ? await rotateWebhookSecret(deps, id) : null
      if (!p || !secret) return notFound(c)
      await audit(deps, c, 'processor.rotate_secret', `processor:${id}`, { name: p.name })
      return secretPage(c, p, secret, 'rotated')
    },
  )
}
