/**
 * @module /admin/integration and /admin/keys: Mautic (connection test, create or re-publish the
 * webhook, the observe → enforce switch with what enforce would change, a sync), the outbox (pending,
 * failing with their last error, dead letters to retry or discard), a test mail through the configured
 * transport (integration.read to see, integration.manage to act), and API keys (keys.manage: create
 * with scopes — the key shown once, after a fresh second factor —, last use, revoke). Every action
 * has a reason and an audit entry. The admin API does the same (src/routes/api/admin/operations.ts,
 * accounts.ts, integration.ts).
 */
import type { Context, Hono } from 'hono'
import type { MirrorMode } from '../../config.ts'
import type { Deps } from '../../deps.ts'
import { recordAudit } from '../../domain/admin/audit.ts'
import { can } from '../../domain/admin/permissions.ts'
import {
  API_KEY_SCOPES,
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from '../../domain/platform/api-keys.ts'
import { discardDead, listOutboxPage, retryDead } from '../../domain/platform/outbox.ts'
import { normalizeEmail } from '../../lib/email.ts'
import { t } from '../../lib/i18n.ts'
import { connectMautic } from '../../mautic/connect.ts'
import { enforcePreview, switchMirrorMode, testMauticConnection } from '../../mautic/console.ts'
import { syncMautic } from '../../mautic/sync.ts'
import { MauticError } from '../../mautic/types.ts'
import { explainMauticError } from '../../mautic/connect.ts'
import { webhookHealth } from '../../mautic/webhook-health.ts'
import { actorOf, adminLocale, adminPage, field, guard } from './context.ts'
import { count, label, when } from './format.ts'
import { sendTestMail } from '../../domain/admin/mail-test.ts'

const OUTBOX_STATUSES = ['pending', 'failing', 'dead'] as const

export function integrationRoutes(deps: Deps, app: Hono) {
  const page = async (
    c: Context,
    result: { ok: boolean; text: string; lines?: string[] } | null = null,
    status: 200 | 400 | 502 = 200,
  ) => {
    const locale = adminLocale(c)
    const role = c.get('admin')!.user.role
    const chosen = c.req.query('outbox')
    const outboxStatus = (OUTBOX_STATUSES as readonly string[]).includes(chosen ?? '')
      ? (chosen as (typeof OUTBOX_STATUSES)[number])
      : 'failing'
    const after = c.req.query('after') ?? undefined
    const [webhook, preview, messages] = await Promise.all([
      webhookHealth(deps),
      enforcePreview(deps),
      listOutboxPage(deps.db, outboxStatus, 50, after),
    ])
    const now = deps.clock.now()
    return adminPage(deps, c, 'admin/integration', {
      titleKey: 'admin.integration.title',
      status,
      data: {
        result: result && { ...result, lines: result.lines ?? [] },
        manage: can(role, 'integration.manage'),
        mautic: {
          configured: deps.config.mautic !== undefined,
          url: deps.config.mautic ? new URL(deps.config.mautic.url).origin : null,
          state: label(locale, 'webhook', webhook.state),
          advice: webhook.advice,
          lastReceived: when(
            webhook.last_received_at ? Date.parse(webhook.last_received_at) : null,
            locale,
          ),
          published:
            webhook.published === null
              ? t(locale, 'admin.dash.unknown')
              : webhook.published
                ? t(locale, 'admin.dash.yes')
                : t(locale, 'admin.dash.no'),
          mode: preview.mode,
          modeLabel: label(locale, 'mode', preview.mode),
          enforce: preview.mode === 'enforce',
          pending: count(preview.contacts, locale) + (preview.capped ? '+' : ''),
          sampled: preview.sampled,
          byOp: preview.byOp.map((o) => ({
            op: label(locale, 'op', o.op),
            count: count(o.count, locale),
          })),
          examples: preview.examples,
        },
        outbox: {
          statuses: OUTBOX_STATUSES.map((s) => ({
            value: s,
            label: t(locale, `admin.integration.outbox.${s}`),
            current: s === outboxStatus,
          })),
          status: outboxStatus,
          dead: outboxStatus === 'dead',
          messages: messages.map((m) => ({
            ...m,
            created: when(m.created_at, locale),
            next: outboxStatus === 'dead' ? '—' : when(m.next_attempt_at, locale),
            overdue: m.next_attempt_at < now,
          })),
          more:
            messages.length === 50
              ? `?outbox=${outboxStatus}&after=${encodeURIComponent(messages.at(-1)!.id)}#outbox`
              : null,
        },
        transport: deps.mail.name,
      },
    })
  }
  guard(deps, app, 'GET', '/integration', 'integration.read', (c) => page(c))

  const reasonOf = async (c: Context) => (await field(c, 'reason')).trim().slice(0, 500)
  /** A Mautic action: its reason first, then the call, audited with its outcome. */
  const mauticAction =
    (
      action: string,
      run: (c: Context, reason: string) => Promise<{ ok: boolean; text: string; lines?: string[] }>,
    ) =>
    async (c: Context) => {
      const reason = await reasonOf(c)
      const locale = adminLocale(c)
      if (!reason) return page(c, { ok: false, text: t(locale, 'admin.error.reasonRequired') }, 400)
      let r: { ok: boolean; text: string; lines?: string[] }
      try {
        r = await run(c, reason)
      } catch (err) {
        if (!(err instanceof MauticError)) throw err
        r = { ok: false, text: explainMauticError(err) }
      }
      await recordAudit(deps, {
        ...actorOf(deps, c),
        action,
        outcome: r.ok ? 'ok' : 'failed',
        details: { reason },
      })
      return page(c, r, r.ok ? 200 : 502)
    }

  guard(
    deps,
    app,
    'POST',
    '/integration/mautic/test',
    'integration.manage',
    mauticAction('mautic.test', async (c) => {
      const r = await testMauticConnection(deps)
      const locale = adminLocale(c)
      return r.ok
        ? { ok: true, text: t(locale, 'admin.integration.testOk', { webhooks: r.webhooks }) }
        : { ok: false, text: r.error }
    }),
  )
  guard(
    deps,
    app,
    'POST',
    '/integration/mautic/connect',
    'integration.manage',
    mauticAction('mautic.connect', async (c) => {
      const r = await connectMautic(deps)
      const locale = adminLocale(c)
      if (!r.ok) return { ok: false, text: r.error }
      return {
        ok: true,
        text: t(
          locale,
          `admin.integration.webhook.${r.webhook.created ? 'created' : r.webhook.republished ? 'republished' : 'kept'}`,
        ),
        lines: [
          ...(r.webhook.secret
            ? [t(locale, 'admin.integration.secret', { secret: r.webhook.secret })]
            : []),
          ...(r.fieldsCreated.length
            ? [t(locale, 'admin.integration.fields', { fields: r.fieldsCreated.join(', ') })]
            : []),
          ...(r.tagsCreated.length
            ? [t(locale, 'admin.integration.tags', { tags: r.tagsCreated.join(', ') })]
            : []),
        ],
      }
    }),
  )
  guard(
    deps,
    app,
    'POST',
    '/integration/mautic/sync',
    'integration.manage',
    mauticAction('mautic.sync', async (c) => {
      const locale = adminLocale(c)
      if (!deps.config.mautic || !deps.mautic)
        return { ok: false, text: t(locale, 'admin.integration.notConfigured') }
      const r = await syncMautic(deps, { collect: false })
      c.set('outboxPending', true)
      return {
        ok: true,
        text: t(locale, 'admin.integration.synced'),
        lines: Object.entries(r.counts).map(([k, v]) => `${k}: ${v}`),
      }
    }),
  )
  guard(deps, app, 'POST', '/integration/mautic/mode', 'integration.manage', async (c) => {
    const locale = adminLocale(c)
    const reason = await reasonOf(c)
    const mode = await field(c, 'mode')
    if (mode !== 'observe' && mode !== 'enforce')
      return page(c, { ok: false, text: t(locale, 'admin.integration.badMode') }, 400)
    const r = await switchMirrorMode(deps, mode as MirrorMode, { ...actorOf(deps, c), reason })
    if (!r.ok) return page(c, { ok: false, text: t(locale, 'admin.error.reasonRequired') }, 400)
    if (r.queued > 0) c.set('outboxPending', true)
    return page(c, {
      ok: true,
      text: t(locale, `admin.integration.modeSet.${mode}`, { queued: r.queued }),
      lines: r.more ? [t(locale, 'admin.integration.modeMore')] : [],
    })
  })

  for (const [path, action] of [
    ['retry', 'outbox.retry'],
    ['discard', 'outbox.discard'],
  ] as const)
    guard(deps, app, 'POST', `/integration/outbox/:id/${path}`, 'integration.manage', async (c) => {
      const locale = adminLocale(c)
      const reason = await reasonOf(c)
      if (!reason) return page(c, { ok: false, text: t(locale, 'admin.error.reasonRequired') }, 400)
      const id = c.req.param('id') ?? ''
      const now = deps.clock.now()
      const ok =
        path === 'retry' ? await retryDead(deps.db, id, now) : await discardDead(deps.db, id)
      await recordAudit(deps, {
        ...actorOf(deps, c),
        action,
        target: `outbox:${id}`,
        outcome: ok ? 'ok' : 'failed',
        details: { reason },
      })
      if (ok && path === 'retry') c.set('outboxPending', true)
      return page(
        c,
        { ok, text: t(locale, ok ? `admin.integration.${path}Done` : 'admin.integration.noDead') },
        ok ? 200 : 400,
      )
    })

  guard(deps, app, 'POST', '/integration/mail-test', 'integration.manage', async (c) => {
    const locale = adminLocale(c)
    const reason = await reasonOf(c)
    if (!reason) return page(c, { ok: false, text: t(locale, 'admin.error.reasonRequired') }, 400)
    const to = normalizeEmail((await field(c, 'to')).slice(0, 254))
    if (!to) return page(c, { ok: false, text: t(locale, 'admin.integration.badAddress') }, 400)
    const r = await sendTestMail(deps, to, { ...actorOf(deps, c), reason })
    return page(
      c,
      r.ok
        ? {
            ok: true,
            text: t(locale, 'admin.integration.mailSent', {
              transport: r.transport,
              id: r.messageId,
            }),
          }
        : {
            ok: false,
            text: t(locale, 'admin.integration.mailFailed', {
              transport: r.transport,
              error: r.error,
            }),
          },
      r.ok ? 200 : 502,
    )
  })

  // API keys
  const keysPage = async (
    c: Context,
    extra: { created?: { key: string; name: string }; error?: string; notice?: string } = {},
    status: 200 | 400 | 403 = 200,
  ) => {
    const locale = adminLocale(c)
    const keys = await listApiKeys(deps)
    const owner = can(c.get('admin')!.user.role, 'users.manage')
    return adminPage(deps, c, 'admin/keys', {
      titleKey: 'admin.keys.title',
      status,
      data: {
        created: extra.created ?? null,
        error: extra.error ?? null,
        notice: extra.notice ?? null,
        keys: keys.map((k) => ({
          ...k,
          scopes: k.scopes.join(', '),
          created: when(k.createdAt, locale),
          lastUsed:
            k.lastUsedAt === null ? t(locale, 'admin.keys.never') : when(k.lastUsedAt, locale),
          revoked: k.revokedAt === null ? null : when(k.revokedAt, locale),
        })),
        scopes: API_KEY_SCOPES.filter((s) => s !== 'admin' || owner).map((s) => ({
          value: s,
          label: label(locale, 'scope', s),
        })),
      },
    })
  }
  guard(deps, app, 'GET', '/keys', 'keys.manage', (c) => keysPage(c))
  guard(
    deps,
    app,
    'POST',
    '/keys',
    'keys.manage',
    async (c) => {
      const locale = adminLocale(c)
      const reason = await reasonOf(c)
      if (!reason) return keysPage(c, { error: t(locale, 'admin.error.reasonRequired') }, 400)
      const body = await c.req.parseBody({ all: true })
      const raw = body.scopes
      const scopes = (Array.isArray(raw) ? raw : [raw]).filter(
        (s): s is string => typeof s === 'string',
      )
      // A key with the admin scope holds every permission: only an owner makes one.
      if (scopes.includes('admin') && !can(c.get('admin')!.user.role, 'users.manage'))
        return keysPage(c, { error: t(locale, 'admin.keys.adminOwnerOnly') }, 403)
      const created = await createApiKey(deps, {
        name: (await field(c, 'name')).trim().slice(0, 100),
        scopes,
      })
      if (!created.ok) return keysPage(c, { error: created.error }, 400)
      await recordAudit(deps, {
        ...actorOf(deps, c),
        action: 'apikey.create',
        target: `apikey:${created.apiKey.id}`,
        details: { name: created.apiKey.name, scopes: created.apiKey.scopes, reason },
      })
      return keysPage(c, { created: { key: created.key, name: created.apiKey.name } })
    },
    { stepUp: true, back: '/admin/keys' },
  )
  guard(deps, app, 'POST', '/keys/:id/revoke', 'keys.manage', async (c) => {
    const locale = adminLocale(c)
    const reason = await reasonOf(c)
    if (!reason) return keysPage(c, { error: t(locale, 'admin.error.reasonRequired') }, 400)
    const id = c.req.param('id') ?? ''
    const ok = await revokeApiKey(deps, id)
    await recordAudit(deps, {
      ...actorOf(deps, c),
      action: 'apikey.revoke',
      target: `apikey:${id}`,
      outcome: ok ? 'ok' : 'failed',
      details: { reason },
    })
    return ok
      ? keysPage(c, { notice: t(locale, 'admin.keys.revoked') })
      : keysPage(c, { error: t(locale, 'admin.keys.noKey') }, 400)
  })
}
