/**
 * @module Whether Mautic's webhook still reaches the gateway. Mautic sends events only through a
 * published webhook, unpublishes one at once on a 410 and after 100 deliveries in a row without a
 * 2xx (WebhookModel::processWebhook, `isSick`, `webhook_disable_limit`), and never retries a refused
 * delivery: a webhook that fails quietly loses every unsubscribe Mautic records. So the gateway keeps
 * the last delivery it accepted and the last it refused (with why), and the webhook as Mautic last
 * showed it (`mautic connect`, and the scheduled check below); `/healthz?detail=1` and the start-up
 * banner report them.
 */
import { findWebhookHealth, upsertWebhookHealthQuery } from '../db/repositories/mautic-setup.ts'
import type { Deps } from '../deps.ts'
import { counterQuery } from '../domain/platform/counters.ts'
import { MauticError } from './types.ts'
import { MAUTIC_SOURCE } from './webhook-secrets.ts'

/** Two webhook URLs that differ only by trailing slashes are the same webhook. */
export const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '')

/** One write per process at most this often for accepted deliveries (each one would cost a write). */
const RECEIVED_EVERY_MS = 60_000
/** Refusals are rarer and matter more: sooner, and at once when the reason changes. */
const REFUSED_EVERY_MS = 10_000
/** No accepted delivery for this long (or none ever) while Mautic is set up: reported as stale. */
export const WEBHOOK_STALE_MS = 24 * 3600_000
/** How often the scheduled job asks Mautic whether the webhook is still published. */
export const WEBHOOK_CHECK_EVERY_MS = 3600_000

export type RefusalReason =
  'invalid_signature' | 'not_configured' | 'invalid_payload' | 'payload_too_large'

interface Throttle {
  received: number
  refused: number
  reason: string | null
}
const throttles = new WeakMap<object, Throttle>()

function throttle(deps: Pick<Deps, 'db'>): Throttle {
  let t = throttles.get(deps.db)
  if (!t) throttles.set(deps.db, (t = { received: -Infinity, refused: -Infinity, reason: null }))
  return t
}

/** A delivery was accepted (signed, read and recorded). */
export async function noteWebhookReceived(deps: Pick<Deps, 'db' | 'clock' | 'atomic'>) {
  const t = throttle(deps)
  const now = deps.clock.now()
  if (now - t.received < RECEIVED_EVERY_MS) return
  t.received = now
  await deps.atomic([upsertWebhookHealthQuery(deps.db, MAUTIC_SOURCE, { last_received_at: now })])
}

/** A delivery was refused: Mautic will not send it again. Each one is counted (the dashboard's figure). */
export async function noteWebhookRefused(
  deps: Pick<Deps, 'db' | 'clock' | 'atomic' | 'logger'>,
  reason: RefusalReason,
) {
  const t = throttle(deps)
  const now = deps.clock.now()
  const counted = counterQuery('webhook_refused', { reason }, now)
  if (now - t.refused < REFUSED_EVERY_MS && t.reason === reason) {
    await deps.atomic([counted])
    return
  }
  t.refused = now
  t.reason = reason
  await deps.atomic([
    counted,
    upsertWebhookHealthQuery(deps.db, MAUTIC_SOURCE, {
      last_refused_at: now,
      last_refused_reason: reason,
    }),
  ])
}

/** What `mautic connect` or the scheduled check saw of the webhook in Mautic. */
export function noteWebhookSeen(
  deps: Pick<Deps, 'db'>,
  hook: { id: number; url: string; published: boolean } | null,
  now: number,
) {
  return upsertWebhookHealthQuery(deps.db, MAUTIC_SOURCE, {
    webhook_id: hook ? String(hook.id) : null,
    webhook_url: hook?.url ?? null,
    published: hook ? (hook.published ? 1 : 0) : null,
    checked_at: now,
  })
}

export type WebhookState =
  /** Neither MAUTIC_URL nor a webhook secret: the webhook is not in use. */
  | 'not_configured'
  /** Mautic showed the webhook unpublished (or gone) at the last check: it sends nothing. */
  | 'unpublished'
  | 'missing'
  /** The last delivery was refused: Mautic is losing events. */
  | 'failing'
  /** Nothing accepted for WEBHOOK_STALE_MS, or never. */
  | 'stale'
  | 'ok'

export interface WebhookHealth {
  state: WebhookState
  /** What to do about it, in words; null when all is well. */
  advice: string | null
  last_received_at: string | null
  last_refused_at: string | null
  last_refused_reason: string | null
  webhook_id: string | null
  published: boolean | null
  checked_at: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export async function webhookHealth(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
): Promise<WebhookHealth> {
  const row = await findWebhookHealth(deps.db, MAUTIC_SOURCE)
  const now = deps.clock.now()
  const received = row?.last_received_at ?? null
  const refused = row?.last_refused_at ?? null
  let state: WebhookState
  let advice: string | null = null
  if (!deps.config.mautic && !deps.config.mauticWebhookSecret && !row) state = 'not_configured'
  else if (row?.checked_at != null && row.webhook_id === null) {
    state = 'missing'
    advice = 'no webhook to this gateway in Mautic: run `consent-gateway mautic connect`'
  } else if (row?.published === 0) {
    state = 'unpublished'
    advice =
      'Mautic unpublished the webhook (its deliveries kept failing): run `consent-gateway mautic connect` to publish it again'
  } else if (refused !== null && (received === null || refused > received)) {
    state = 'failing'
    advice = `the last delivery was refused (${row?.last_refused_reason ?? 'unknown'}): Mautic does not send it again`
  } else if (received === null || now - received > WEBHOOK_STALE_MS) {
    state = 'stale'
    advice =
      received === null
        ? 'no delivery received yet: run `consent-gateway mautic connect`, or use "Send test payload" on the webhook in Mautic'
        : 'no delivery for over a day: check the webhook in Mautic (Settings → Webhooks)'
  } else state = 'ok'
  return {
    state,
    advice,
    last_received_at: iso(received),
    last_refused_at: iso(refused),
    last_refused_reason: row?.last_refused_reason ?? null,
    webhook_id: row?.webhook_id ?? null,
    published: row?.published == null ? null : row.published === 1,
    checked_at: iso(row?.checked_at ?? null),
  }
}

/**
 * The scheduled check (hourly): is the webhook still in Mautic, and published? Mautic unpublishes a
 * sick webhook silently for the gateway (it notifies its own users), so this is how the gateway learns
 * it. A Mautic that cannot be reached is noted as checked, and tried again an hour later.
 */
export async function checkWebhookInMautic(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'mautic' | 'atomic' | 'logger'>,
): Promise<void> {
  if (!deps.mautic) return
  const row = await findWebhookHealth(deps.db, MAUTIC_SOURCE)
  const now = deps.clock.now()
  if (row?.checked_at != null && now - row.checked_at < WEBHOOK_CHECK_EVERY_MS) return
  const url = row?.webhook_url ?? `${deps.config.publicUrl}/hooks/mautic`
  let hooks
  try {
    hooks = await deps.mautic.listWebhooks()
  } catch (err) {
    if (!(err instanceof MauticError)) throw err
    await deps.atomic([upsertWebhookHealthQuery(deps.db, MAUTIC_SOURCE, { checked_at: now })])
    deps.logger.log('warn', 'Mautic webhook check: Mautic did not answer', { error: err.message })
    return
  }
  const hook =
    hooks.find((h) => row?.webhook_id != null && String(h.id) === row.webhook_id) ??
    hooks.find((h) => sameUrl(h.webhookUrl, url))
  await deps.atomic([
    noteWebhookSeen(
      deps,
      hook ? { id: hook.id, url: hook.webhookUrl, published: hook.isPublished } : null,
      now,
    ),
  ])
  if (!hook)
    deps.logger.log(
      'error',
      'Mautic has no webhook to this gateway: run `consent-gateway mautic connect`',
      { url },
    )
  else if (!hook.isPublished)
    deps.logger.log(
      'error',
      'Mautic unpublished the webhook to this gateway: it sends no event; run `consent-gateway mautic connect` to publish it again',
      { webhookId: hook.id },
    )
}
