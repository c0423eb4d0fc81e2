/**
 * @module Proof bundles for an authority (GDPR Art. 5(2), 7(1); src/domain/compliance/proof-bundle.ts):
 * every consent event of a period and/or a purpose, with its wording and evidence, cut at a signed
 * ledger checkpoint. Personal data leaves with a bundle, so every screen here asks for a fresh second
 * factor (step-up) and each bundle made or downloaded is audited. The download streams the pages
 * then the signed manifest, one page in memory at a time; the admin API serves the same pages one
 * request each (README "Compliance"), the way for very large bundles on Workers.
 */
import type { Context, Hono } from 'hono'
import type { Deps } from '../../deps.ts'
import {
  BundleFailure,
  bundleChunks,
  createProofBundle,
  getProofBundle,
  listBundles,
  type BundleView,
} from '../../domain/compliance/proof-bundle.ts'
import { loadPurposes } from '../../domain/consent/purposes.ts'
import { t, type Locale } from '../../lib/i18n.ts'
import { actorOf, adminLocale, adminMessage, guard } from './context.ts'
import { audit, compliancePage, form, one, parseDay, when, withLang } from './compliance-shared.ts'

const DAY_MS = 86_400_000

function bundleLine(b: BundleView, locale: Locale) {
  const to = b.filter.occurred_to
  return {
    ...b,
    purpose: b.filter.purpose ?? t(locale, 'admin.compliance.bundles.allPurposes'),
    // The form's "to" day is included: the filter ends at the next midnight.
    period: t(locale, 'admin.compliance.bundles.period', {
      from: b.filter.occurred_from ? b.filter.occurred_from.slice(0, 10) : '…',
      to: to ? new Date(Date.parse(to) - DAY_MS).toISOString().slice(0, 10) : '…',
    }),
    coveredUntil: when(b.covered_until, locale),
    created: when(b.created_at, locale),
    state: t(
      locale,
      b.complete ? 'admin.compliance.bundles.complete' : 'admin.compliance.bundles.started',
      { pages: b.pages_made },
    ),
  }
}

export function bundleRoutes(deps: Deps, app: Hono) {
  const step = { stepUp: true, back: '/admin/compliance/bundles' }

  const listPage = async (
    c: Context,
    extra: { error?: string; values?: Record<string, string> } = {},
    status?: 400,
  ) => {
    const locale = adminLocale(c)
    const [bundles, purposes] = await Promise.all([
      listBundles(deps),
      loadPurposes(deps.db, deps.clock.now()),
    ])
    const v = extra.values ?? {}
    return compliancePage(deps, c, 'bundles', {
      titleKey: 'admin.compliance.bundles.title',
      status,
      data: {
        bundles: bundles.map((b) => bundleLine(b, locale)),
        purposes: [...purposes.keys()].map((k) => ({ value: k, selected: k === v.purpose })),
        values: { from: v.from ?? '', to: v.to ?? '', fresh: v.fresh !== 'off' },
        error: extra.error ? t(locale, `admin.compliance.bundles.error.${extra.error}`) : null,
      },
    })
  }
  guard(deps, app, 'GET', '/compliance/bundles', 'exports.personal', (c) => listPage(c), step)

  guard(
    deps,
    app,
    'POST',
    '/compliance/bundles',
    'exports.personal',
    async (c) => {
      const f = await form(c)
      const values = {
        purpose: one(f, 'purpose'),
        from: one(f, 'from'),
        to: one(f, 'to'),
        fresh: one(f, 'fresh_checkpoint') === 'on' ? 'on' : 'off',
      }
      const from = parseDay(values.from)
      const toDay = parseDay(values.to)
      if (Number.isNaN(from) || Number.isNaN(toDay))
        return listPage(c, { values, error: 'date' }, 400)
      const r = await createProofBundle(
        deps,
        {
          purpose: values.purpose || null,
          from: from ?? null,
          to: toDay === undefined ? null : toDay + DAY_MS,
          freshCheckpoint: values.fresh === 'on',
        },
        actorOf(deps, c).actor,
      )
      if (!r.ok)
        return listPage(
          c,
          { values, error: r.code === 'unknown_purpose' ? 'purpose' : 'period' },
          400,
        )
      await audit(deps, c, 'proof_bundle.create', `bundle:${r.bundle.id}`, {
        purpose: r.bundle.filter.purpose,
        from: r.bundle.filter.occurred_from,
        to: r.bundle.filter.occurred_to,
        checkpoint: r.bundle.checkpoint_id,
      })
      return c.redirect(
        withLang(c, `/admin/compliance/bundles/${r.bundle.id}`, { done: 'created' }),
        303,
      )
    },
    step,
  )

  const notFound = (c: Context) => adminMessage(deps, c, 404, 'admin.compliance.bundles.notFound')

  guard(
    deps,
    app,
    'GET',
    '/compliance/bundles/:id',
    'exports.personal',
    async (c) => {
      const locale = adminLocale(c)
      const b = await getProofBundle(deps, c.req.param('id') ?? '')
      if (!b) return notFound(c)
      return compliancePage(deps, c, 'bundle', {
        titleKey: 'admin.compliance.bundle.title',
        data: {
          bundle: bundleLine(b, locale),
          api: `/api/v1/admin/proof-bundles/${b.id}`,
          jwksUrl: `${deps.config.publicUrl}/.well-known/jwks.json`,
          notice:
            c.req.query('done') === 'created'
              ? t(locale, 'admin.compliance.bundles.created')
              : null,
        },
      })
    },
    step,
  )

  guard(
    deps,
    app,
    'GET',
    '/compliance/bundles/:id/download',
    'exports.personal',
    async (c) => {
      const id = c.req.param('id') ?? ''
      if (!(await getProofBundle(deps, id))) return notFound(c)
      await audit(deps, c, 'proof_bundle.download', `bundle:${id}`)
      const chunks = bundleChunks(deps, id)
      const encoder = new TextEncoder()
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const next = await chunks.next()
            if (next.done) controller.close()
            else controller.enqueue(encoder.encode(next.value))
          } catch (err) {
            // Cut short: the file lacks its manifest, and any verification refuses it.
            deps.logger.log('error', 'proof bundle download failed', {
              bundleId: id,
              error: err instanceof BundleFailure ? err.error.code : String(err),
            })
            controller.error(err)
          }
        },
        cancel: async () => void (await chunks.return(undefined)),
      })
      return c.body(stream, 200, {
        'Content-Type': 'application/x-ndjson; charset=utf-8',
        'Content-Disposition': `attachment; filename="proof-bundle-${id}.jsonl"`,
        'Cache-Control': 'no-store',
      })
    },
    step,
  )
}
