/**
 * @module The secrets a Mautic webhook delivery may be signed with: MAUTIC_WEBHOOK_SECRET and those
 * `mautic connect` stored (one it generated before creating the webhook, or one it read back from
 * Mautic, whose API lists each webhook's secret: WebhookBundle/Entity/Webhook.php, group
 * `hookDetails`). A stored secret is accepted from the moment it is written, without a restart, so
 * that no delivery is refused between set-up and configuration: Mautic never retries a refused one,
 * and unpublishes a webhook whose last 100 deliveries all failed (WebhookModel::processWebhook).
 */
import {
  insertWebhookSecretQuery,
  listWebhookSecrets,
  setWebhookSecretHookQuery,
} from '../db/repositories/mautic-setup.ts'
import type { Deps } from '../deps.ts'
import { uuidv7 } from '../lib/ids.ts'
import { decryptField, encryptField } from '../lib/keys.ts'

export const MAUTIC_SOURCE = 'mautic'

const secretAad = (id: string) => `webhook_secrets.secret:${id}`

/** Read again at most this often when a signature matches none of the secrets known. */
const RELOAD_AFTER_MS = 1_000
/** And in any case this often: another process (the CLI, another isolate) may have stored one. */
const TTL_MS = 60_000

interface Cached {
  stored: { id: string; secret: string; webhookId: string | null; origin: string }[]
  loadedAt: number
}
const cache = new WeakMap<object, Cached>()

type SecretDeps = Pick<Deps, 'db' | 'keys' | 'clock' | 'config'>

async function load(deps: SecretDeps): Promise<Cached> {
  const rows = await listWebhookSecrets(deps.db, MAUTIC_SOURCE)
  const stored = []
  for (const r of rows)
    stored.push({
      id: r.id,
      secret: await decryptField(deps.keys, r.secret_enc, secretAad(r.id)),
      webhookId: r.webhook_id,
      origin: r.origin,
    })
  const loaded = { stored, loadedAt: deps.clock.now() }
  cache.set(deps.db, loaded)
  return loaded
}

/** The configured secret first, then the stored ones, newest first, without repeats. */
function secretsOf(deps: SecretDeps, c: Cached): string[] {
  const all = [deps.config.mauticWebhookSecret, ...c.stored.map((s) => s.secret)]
  return [...new Set(all.filter((s): s is string => !!s))]
}

/** Every secret a delivery may be signed with now (cached per database). */
export async function webhookSecrets(deps: SecretDeps): Promise<string[]> {
  let c = cache.get(deps.db)
  if (!c || deps.clock.now() - c.loadedAt > TTL_MS) c = await load(deps)
  return secretsOf(deps, c)
}

/**
 * After a signature matched none of `known`: the secrets again, read from the database if a new one
 * may have been stored since; null when there is nothing new to try.
 */
export async function reloadedWebhookSecrets(
  deps: SecretDeps,
  known: readonly string[],
): Promise<string[] | null> {
  const c = cache.get(deps.db)
  // With none known, every delivery is refused anyway: always look again (a cheap read).
  if (c && known.length > 0 && deps.clock.now() - c.loadedAt < RELOAD_AFTER_MS) return null
  const fresh = secretsOf(deps, await load(deps))
  return fresh.some((s) => !known.includes(s)) ? fresh : null
}

/** The stored secrets, for `mautic connect` (which secret a webhook already uses). */
export async function storedWebhookSecrets(deps: SecretDeps) {
  return (await load(deps)).stored
}

/**
 * Stores `secret` (encrypted) so that deliveries signed with it are accepted from now on; nothing when
 * it is stored already. Returns the row's id.
 */
export async function storeWebhookSecret(
  deps: Pick<Deps, 'db' | 'keys' | 'clock' | 'config' | 'atomic'>,
  secret: string,
  origin: 'generated' | 'recovered',
  webhookId: number | null,
): Promise<string> {
  const stored = await storedWebhookSecrets(deps)
  const same = stored.find((s) => s.secret === secret)
  if (same) {
    if (webhookId !== null && same.webhookId !== String(webhookId))
      await deps.atomic([setWebhookSecretHookQuery(deps.db, same.id, String(webhookId))])
    cache.delete(deps.db)
    return same.id
  }
  const now = deps.clock.now()
  const id = uuidv7(now)
  await deps.atomic([
    insertWebhookSecretQuery(deps.db, {
      id,
      source: MAUTIC_SOURCE,
      secret_enc: await encryptField(deps.keys, secret, secretAad(id)),
      origin,
      webhook_id: webhookId === null ? null : String(webhookId),
      created_at: now,
    }),
  ])
  cache.delete(deps.db)
  return id
}

/** A secret stored before its webhook existed, now that Mautic gave the webhook an id. */
export async function attachWebhookSecret(
  deps: Pick<Deps, 'db' | 'atomic'>,
  id: string,
  webhookId: number,
): Promise<void> {
  await deps.atomic([setWebhookSecretHookQuery(deps.db, id, String(webhookId))])
}

/** A secret generated earlier whose webhook was never created (a failed run): used again. */
export async function unusedGeneratedSecret(deps: SecretDeps) {
  return (await load(deps)).stored.find((s) => s.origin === 'generated' && s.webhookId === null)
}
