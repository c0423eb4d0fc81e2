/**
 * @module The data inventory screens (GDPR Art. 9, 10, 30(1)(c); README "Compliance", step 1): every
 * personal-data field with the suggestion made from its name, label and type and the reason for it,
 * the import of Mautic's fields and the gateway's own, and the form where a person confirms or
 * corrects each classification: nothing is classified until someone submits it
 * (src/domain/compliance/inventory.ts).
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import { FIELD_CATEGORIES } from '../../domain/compliance/classify.ts'
import {
  addManualField,
  classifyField,
  getField,
  LEGAL_BASES,
  listInventory,
  refreshInventory,
  removeManualField,
  reviewField,
  type FieldView,
} from '../../domain/compliance/inventory.ts'
import { listProcessors } from '../../domain/compliance/processors.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, guard } from './context.ts'
import {
  audit,
  compliancePage,
  form,
  isOneOf,
  labelOf,
  many,
  one,
  parseWhole,
  when,
  withLang,
} from './compliance-shared.ts'

const SOURCES = ['mautic', 'gateway', 'manual'] as const
const STATUSES = ['pending', 'confirmed'] as const
/** The conditions of Art. 9(2) most often relied on, offered as suggestions (the field is free text). */
const ART9_CONDITIONS = ['a', 'b', 'e', 'f', 'h'] as const

/** Why the field got its suggestion, in words. */
export function suggestionText(f: FieldView, locale: Locale) {
  const s = f.suggestion
  const category = labelOf(locale, 'compliance.category', s.category)
  const why =
    s.rule === 'keyword'
      ? t(locale, 'admin.compliance.suggestion.keyword', { match: s.match ?? '' })
      : s.rule === 'type'
        ? t(locale, 'admin.compliance.suggestion.type', { match: s.match ?? '' })
        : t(locale, 'admin.compliance.suggestion.none')
  return {
    category: s.category ? category : t(locale, 'admin.compliance.suggestion.nothing'),
    why,
    article: s.article ? t(locale, `admin.compliance.suggestion.${s.article}`) : null,
    special: s.special ? t(locale, `admin.compliance.special.${s.special}`) : null,
    review: s.review,
    isSpecial: s.category === 'special',
  }
}

export function inventoryRoutes(deps: Deps, app: Hono) {
  const listPage = async (c: Context, extra: Record<string, unknown> = {}, status?: 400 | 502) => {
    const locale = adminLocale(c)
    const q = (k: string) => c.req.query(k) ?? ''
    const filter = {
      status: isOneOf(q('status'), STATUSES) ? q('status') : '',
      category: isOneOf(q('category'), FIELD_CATEGORIES) ? q('category') : '',
      source: isOneOf(q('source'), SOURCES) ? q('source') : '',
      removed: q('removed') === 'true',
    }
    const fields = await listInventory(deps, {
      status: (filter.status || undefined) as FieldView['status'] | undefined,
      category: (filter.category || undefined) as (typeof FIELD_CATEGORIES)[number] | undefined,
      source: (filter.source || undefined) as FieldView['source'] | undefined,
      includeRemoved: filter.removed,
    })
    const option = (prefix: string, values: readonly string[], selected: string) =>
      values.map((v) => ({
        value: v,
        label: t(locale, `${prefix}.${v}`),
        selected: v === selected,
      }))
    const done = c.req.query('done')
    return compliancePage(deps, c, 'fields', {
      titleKey: 'admin.compliance.fields.title',
      status,
      data: {
        fields: fields.map((f) => ({
          id: f.id,
          name: f.name,
          label: f.label,
          type: f.type,
          source: t(locale, `admin.compliance.source.${f.source}`),
          pending: f.status === 'pending',
          removed: f.removed_at !== null,
          suggestion: suggestionText(f, locale),
          category: labelOf(locale, 'compliance.category', f.category),
          purpose: f.purpose ?? '—',
          retention:
            f.retention_days === null
              ? '—'
              : t(locale, 'compliance.record.days', { days: f.retention_days }),
        })),
        count: fields.length,
        filter,
        statuses: option('admin.compliance.status', STATUSES, filter.status),
        categories: option('compliance.category', FIELD_CATEGORIES, filter.category),
        sources: option('admin.compliance.source', SOURCES, filter.source),
        notice:
          done === 'added' || done === 'removed'
            ? t(locale, `admin.compliance.fields.done.${done}`)
            : null,
        manual: { name: '', label: '', type: 'text' },
        ...extra,
      },
    })
  }

  guard(deps, app, 'GET', '/compliance/fields', 'compliance.read', (c) => listPage(c))

  guard(deps, app, 'POST', '/compliance/fields/import', 'compliance.manage', async (c) => {
    const locale = adminLocale(c)
    const report = (r: { added: number; updated: number; removed: number; pending: number }) =>
      t(locale, 'admin.compliance.fields.report', r)
    try {
      const r = await refreshInventory(deps)
      await audit(deps, c, 'compliance.fields.import', null, {
        gateway: r.gateway,
        mautic: r.mautic,
      })
      const lines = [`${t(locale, 'admin.compliance.source.gateway')}: ${report(r.gateway)}`]
      lines.push(
        r.mautic
          ? `${t(locale, 'admin.compliance.source.mautic')}: ${report(r.mautic)}`
          : t(locale, 'admin.compliance.fields.noMautic'),
      )
      return listPage(c, { notice: lines.join(' ') })
    } catch (err) {
      await audit(deps, c, 'compliance.fields.import', null, { mautic: 'unavailable' })
      deps.logger.log('warn', 'field import: Mautic unavailable', { error: String(err) })
      return listPage(c, { error: t(locale, 'admin.compliance.fields.mauticDown') }, 502)
    }
  })

  guard(deps, app, 'POST', '/compliance/fields', 'compliance.manage', async (c) => {
    const locale = adminLocale(c)
    const f = await form(c)
    const manual = { name: one(f, 'name'), label: one(f, 'label'), type: one(f, 'type') || 'text' }
    const bad = (key: string) =>
      listPage(c, { manual, error: t(locale, `admin.compliance.fields.error.${key}`) }, 400)
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(manual.name)) return bad('name')
    if (manual.label === '' || manual.label.length > 200) return bad('label')
    if (manual.type.length > 32) return bad('type')
    const r = await addManualField(deps, manual)
    if (!r.ok) return bad('exists')
    await audit(deps, c, 'compliance.field.add', `field:${r.field.id}`, { name: manual.name })
    return c.redirect(withLang(c, `/admin/compliance/fields/${r.field.id}`, { done: 'added' }), 303)
  })

  const fieldPage = async (
    c: Context,
    field: FieldView,
    extra: { error?: string; values?: Record<string, string | string[]> } = {},
    status?: 400 | 404,
  ) => {
    const locale = adminLocale(c)
    const v = extra.values
    const chosen = (name: string, fallback: string) => (v ? one(v, name) : fallback)
    const category = chosen('category', field.category ?? field.suggestion.category ?? '')
    const basis = chosen('legal_basis', field.legal_basis ?? '')
    const linked = v ? many(v, 'processors') : field.processors
    const [processors, purposes] = await Promise.all([
      listProcessors(deps),
      loadPurposes(deps.db, deps.clock.now()),
    ])
    const done = c.req.query('done')
    return compliancePage(deps, c, 'field', {
      titleKey: 'admin.compliance.field.title',
      params: { name: field.name },
      status,
      data: {
        field: {
          ...field,
          sourceLabel: t(locale, `admin.compliance.source.${field.source}`),
          statusLabel: t(locale, `admin.compliance.status.${field.status}`),
          pending: field.status === 'pending',
          manual: field.source === 'manual' && field.removed_at === null,
          categoryLabel: labelOf(locale, 'compliance.category', field.category),
          basisLabel: labelOf(locale, 'compliance.basis', field.legal_basis),
          confirmedAt: when(field.confirmed_at, locale),
          reviewedAt: when(field.reviewed_at, locale),
          removedAt: when(field.removed_at, locale),
          processorNames: field.processors
            .map((id) => processors.find((p) => p.id === id)?.name ?? id)
            .join(', '),
        },
        suggestion: suggestionText(field, locale),
        needsReview: field.category === 'free_text' || field.suggestion.review,
        categories: FIELD_CATEGORIES.map((x) => ({
          value: x,
          label: t(locale, `compliance.category.${x}`),
          selected: x === category,
          suggested: x === field.suggestion.category,
        })),
        noCategory: category === '',
        bases: LEGAL_BASES.map((x) => ({
          value: x,
          label: t(locale, `compliance.basis.${x}`),
          selected: x === basis,
        })),
        processors: processors.map((p) => ({
          id: p.id,
          name: p.name,
          country: p.country,
          checked: linked.includes(p.id),
        })),
        purposes: [...purposes.keys()],
        conditions: ART9_CONDITIONS.map((x) => t(locale, `admin.compliance.art9.${x}`)),
        values: {
          purpose: chosen('purpose', field.purpose ?? ''),
          retention_days: chosen('retention_days', field.retention_days?.toString() ?? ''),
          special_condition: chosen('special_condition', field.special_condition ?? ''),
          notes: chosen('notes', field.notes ?? ''),
        },
        notice:
          done && ['added', 'classified', 'reviewed'].includes(done)
            ? t(locale, `admin.compliance.fields.done.${done}`)
            : null,
        error: extra.error ?? null,
      },
    })
  }

  const notFound = (c: Context) => adminMessage(deps, c, 404, 'admin.compliance.fields.notFound')

  guard(deps, app, 'GET', '/compliance/fields/:id', 'compliance.read', async (c) => {
    const field = await getField(deps, c.req.param('id') ?? '')
    return field ? fieldPage(c, field) : notFound(c)
  })

  guard(deps, app, 'POST', '/compliance/fields/:id', 'compliance.manage', async (c) => {
    const locale = adminLocale(c)
    const id = c.req.param('id') ?? ''
    const field = await getField(deps, id)
    if (!field) return notFound(c)
    const f = await form(c)
    const bad = (key: string) =>
      fieldPage(
        c,
        field,
        { values: f, error: t(locale, `admin.compliance.field.error.${key}`) },
        400,
      )
    const category = one(f, 'category')
    if (!isOneOf(category, FIELD_CATEGORIES)) return bad('category')
    const basis = one(f, 'legal_basis')
    if (basis !== '' && !isOneOf(basis, LEGAL_BASES)) return bad('basis')
    const retention = parseWhole(one(f, 'retention_days'), 1, 36500)
    if (retention === null) return bad('retention')
    const purpose = one(f, 'purpose')
    const condition = one(f, 'special_condition')
    const notes = one(f, 'notes')
    if (purpose.length > 200 || condition.length > 500 || notes.length > 2000) return bad('long')
    const r = await classifyField(
      deps,
      id,
      {
        category,
        purpose: purpose || null,
        legal_basis: basis === '' ? null : (basis as FieldView['legal_basis']),
        retention_days: retention ?? null,
        special_condition: condition || null,
        processors: many(f, 'processors').slice(0, 100),
        notes: notes || null,
      },
      actorOf(deps, c).actor,
    )
    if (!r.ok) return r.code === 'not_found' ? notFound(c) : bad('processor')
    await audit(deps, c, 'compliance.field.classify', `field:${id}`, {
      name: field.name,
      category,
      suggested: field.suggestion.category,
      special_condition: category === 'special' ? !!condition : undefined,
    })
    return c.redirect(withLang(c, `/admin/compliance/fields/${id}`, { done: 'classified' }), 303)
  })

  guard(deps, app, 'POST', '/compliance/fields/:id/review', 'compliance.manage', async (c) => {
    const id = c.req.param('id') ?? ''
    const field = await getField(deps, id)
    if (!field) return notFound(c)
    const note = one(await form(c), 'note')
    if (note === '' || note.length > 2000)
      return fieldPage(
        c,
        field,
        { error: t(adminLocale(c), 'admin.compliance.field.error.note') },
        400,
      )
    await reviewField(deps, id, note, actorOf(deps, c).actor)
    await audit(deps, c, 'compliance.field.review', `field:${id}`, { name: field.name })
    return c.redirect(withLang(c, `/admin/compliance/fields/${id}`, { done: 'reviewed' }), 303)
  })

  guard(deps, app, 'POST', '/compliance/fields/:id/remove', 'compliance.manage', async (c) => {
    const id = c.req.param('id') ?? ''
    const field = await getField(deps, id)
    if (!field || !(await removeManualField(deps, id))) return notFound(c)
    await audit(deps, c, 'compliance.field.remove', `field:${id}`, { name: field.name })
    return c.redirect(withLang(c, '/admin/compliance/fields', { done: 'removed' }), 303)
  })
}
