/**
 * @module Self-registration in Mautic (`consent-gateway mautic connect`): checks the API access, creates
 * the contact fields and tags the mirror writes (README, "Connecting Mautic"; field aliases fit Mautic's
 * 25 characters: ./field-aliases.ts) and the webhook (as n8n's Mautic trigger does), signed with
 * MAUTIC_WEBHOOK_SECRET or a secret generated and stored first, so that the gateway accepts its first
 * delivery (./webhook-secrets.ts). An existing webhook is published again when Mautic unpublished it,
 * and its secret, which Mautic's API lists, is recovered. Idempotent: a second run creates nothing.
 */
import type { CompiledQuery } from 'kysely'
import { saveFieldAliasQuery, storedFieldAliases } from '../db/repositories/mautic-setup.ts'
import type { Deps } from '../deps.ts'
import { loadPurposes, SENDING_CHANNELS } from '../domain/consent/purposes.ts'
import { toHex } from '../lib/encoding.ts'
import { consentFieldAlias } from './field-aliases.ts'
import { consentTag } from './mirror.ts'
import { noteWebhookSeen, sameUrl } from './webhook-health.ts'
import { WEBHOOK_TRIGGERS } from './webhook-payload.ts'
import {
  attachWebhookSecret,
  storedWebhookSecrets,
  storeWebhookSecret,
  unusedGeneratedSecret,
} from './webhook-secrets.ts'
import { MauticError, type MauticApi } from './types.ts'

export const NOT_CONFIGURED =
  'Mautic is not configured: set MAUTIC_URL (the root URL of your Mautic) and either ' +
  'MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET (Settings → API Credentials, OAuth 2) or ' +
  'MAUTIC_USERNAME/MAUTIC_PASSWORD (with "Enable HTTP basic auth" on in the API settings)'

export const PREFERENCES_FIELD = 'consent_preferences_url'

export type WebhookOutcome =
  | {
      id: number
      created: true
      secret: string
      /** Generated now (and stored, so accepted at once), or MAUTIC_WEBHOOK_SECRET. */
      secretSource: 'generated' | 'configured'
    }
  | {
      id: number
      created: false
      /** Mautic had unpublished it (deliveries kept failing): published again now. */
      republished: boolean
      /**
       * The secret Mautic lists for it: `configured` (MAUTIC_WEBHOOK_SECRET), `stored` (one an
       * earlier run stored), `recovered` (another one, now stored and accepted), or `unknown` (this
       * Mautic did not list it).
       */
      secretSource: 'configured' | 'stored' | 'recovered' | 'unknown'
      secret: string | null
    }

export type ConnectResult =
  | { ok: false; error: string }
  | {
      ok: true
      webhookUrl: string
      webhook: WebhookOutcome
      /** Triggers an existing webhook lacks (it is left as it is: the admin may have chosen them). */
      missingTriggers: string[]
      fieldsCreated: string[]
      /** Purpose key → the alias Mautic gave (or already had) for its consent field. */
      fieldAliases: Record<string, string>
      tagsCreated: string[]
      /** Fields that exist with another type than the mirror writes (left alone, reported). */
      fieldTypeMismatches: { alias: string; type: string; expected: string }[]
    }

/** 32 random bytes, hex: the HMAC key Mautic signs each delivery with (`Webhook-Signature`). */
export const newWebhookSecret = () => toHex(crypto.getRandomValues(new Uint8Array(32)))

type ConnectDeps = Pick<Deps, 'db' | 'clock' | 'config' | 'mautic' | 'keys' | 'atomic'>

export async function connectMautic(
  deps: ConnectDeps,
  opts: { webhookUrl?: string } = {},
): Promise<ConnectResult> {
  const api = deps.mautic
  if (!deps.config.mautic || !api) return { ok: false, error: NOT_CONFIGURED }
  const webhookUrl = opts.webhookUrl ?? `${deps.config.publicUrl}/hooks/mautic`
  try {
    await api.checkAccess()
    const sending = [...(await loadPurposes(deps.db, deps.clock.now())).values()]
      .filter((p) => SENDING_CHANNELS.has(p.channel))
      .map((p) => p.key)
    const fields = await ensureFields(deps, api, sending)
    const tagsCreated = await ensureTags(api, sending)
    // Last: when it fails after the fields, a second run finishes the job and creates the webhook once.
    const hook = await ensureWebhook(deps, api, webhookUrl)
    return { ok: true, webhookUrl, ...hook, ...fields, tagsCreated }
  } catch (err) {
    if (err instanceof MauticError) return { ok: false, error: explainMauticError(err) }
    throw err
  }
}

/** How `connect` labels a purpose's field: also how it finds one Mautic gave another alias. */
const fieldLabel = (key: string) => `Consent: ${key}`

async function ensureFields(deps: ConnectDeps, api: MauticApi, sending: string[]) {
  const now = deps.clock.now()
  const stored = await storedFieldAliases(deps.db)
  const existing = await api.listFields()
  const byAlias = new Map(existing.map((f) => [f.alias, f]))
  const fieldsCreated: string[] = []
  const fieldTypeMismatches: { alias: string; type: string; expected: string }[] = []
  const aliases: Record<string, string> = {}
  const check = (alias: string, type: string, expected: string) => {
    if (type !== expected) fieldTypeMismatches.push({ alias, type, expected })
  }

  const pref = byAlias.get(PREFERENCES_FIELD)
  if (!pref) {
    await api.createField({
      alias: PREFERENCES_FIELD,
      type: 'url',
      label: 'Consent preferences URL',
    })
    fieldsCreated.push(PREFERENCES_FIELD)
  } else check(pref.alias, pref.type, 'url')

  const keep: CompiledQuery[] = []
  for (const key of sending) {
    const wanted = consentFieldAlias(key)
    // The alias kept from an earlier run, else the one asked for, else a field an earlier version
    // created under the same label and Mautic shortened (`consent_push_notification`).
    const found =
      (stored.has(key) ? byAlias.get(stored.get(key)!) : undefined) ??
      byAlias.get(wanted) ??
      existing.find((f) => f.label === fieldLabel(key))
    let alias: string
    if (found) {
      alias = found.alias
      check(alias, found.type, 'boolean')
    } else {
      alias = (await api.createField({ alias: wanted, type: 'boolean', label: fieldLabel(key) }))
        .alias
      fieldsCreated.push(alias)
    }
    aliases[key] = alias
    if (stored.get(key) !== alias) keep.push(saveFieldAliasQuery(deps.db, key, alias, now))
  }
  if (keep.length > 0) await deps.atomic(keep)
  return { fieldsCreated, fieldTypeMismatches, fieldAliases: aliases }
}

/** Tags exist in Mautic on their own (Segments filter on them): created up front so they can be chosen. */
async function ensureTags(api: MauticApi, sending: string[]): Promise<string[]> {
  const existing = new Set(await api.listTags())
  const created: string[] = []
  for (const tag of sending.map(consentTag))
    if (!existing.has(tag)) {
      await api.createTag(tag)
      created.push(tag)
    }
  return created
}

async function ensureWebhook(
  deps: ConnectDeps,
  api: MauticApi,
  webhookUrl: string,
): Promise<{ webhook: WebhookOutcome; missingTriggers: string[] }> {
  const configured = deps.config.mauticWebhookSecret
  const existing = (await api.listWebhooks()).find((h) => sameUrl(h.webhookUrl, webhookUrl))
  if (existing) {
    // Only published webhooks receive events (WebhookModel::getEventWebooksByType).
    const republished = !existing.isPublished
    if (republished) await api.publishWebhook(existing.id)
    let secretSource: 'configured' | 'stored' | 'recovered' | 'unknown' = 'unknown'
    const stored = await storedWebhookSecrets(deps)
    if (existing.secret !== null && existing.secret === configured) secretSource = 'configured'
    else if (existing.secret !== null && stored.some((st) => st.secret === existing.secret))
      secretSource = 'stored'
    else if (existing.secret !== null) {
      // Lost, or never configured: Mautic lists it, so it is kept and accepted from now on.
      await storeWebhookSecret(deps, existing.secret, 'recovered', existing.id)
      secretSource = 'recovered'
    }
    await deps.atomic([
      noteWebhookSeen(
        deps,
        { id: existing.id, url: webhookUrl, published: true },
        deps.clock.now(),
      ),
    ])
    return {
      webhook: {
        id: existing.id,
        created: false,
        republished,
        secretSource,
        secret: secretSource === 'recovered' ? existing.secret : null,
      },
      missingTriggers: WEBHOOK_TRIGGERS.filter((t) => !existing.triggers.includes(t)),
    }
  }
  // The secret is stored before Mautic knows it: its very first delivery is accepted.
  let secret = configured
  let storedId: string | undefined
  if (!secret) {
    const unused = await unusedGeneratedSecret(deps)
    secret = unused?.secret ?? newWebhookSecret()
    storedId = unused?.id ?? (await storeWebhookSecret(deps, secret, 'generated', null))
  }
  const { id } = await api.createWebhook({
    name: 'Consent gateway',
    description:
      'Sends contact, form, e-mail and Do-Not-Contact events to the consent gateway ' +
      '(created by `consent-gateway mautic connect`).',
    webhookUrl,
    secret,
    triggers: [...WEBHOOK_TRIGGERS],
    isPublished: true,
  })
  if (storedId) await attachWebhookSecret(deps, storedId, id)
  await deps.atomic([
    noteWebhookSeen(deps, { id, url: webhookUrl, published: true }, deps.clock.now()),
  ])
  return {
    webhook: {
      id,
      created: true,
      secret,
      secretSource: configured ? 'configured' : 'generated',
    },
    missingTriggers: [],
  }
}

/** The client's message already says what Mautic refused; this adds what to do about it. */
export function explainMauticError(err: MauticError): string {
  let hint = ''
  if (err.type === 'api_disabled')
    hint =
      " Save the configuration, then run this command again (clear Mautic's cache if it still refuses)."
  else if (err.status === 0)
    hint =
      ' Check MAUTIC_URL (the root URL of Mautic, e.g. https://mautic.example.com) and that this ' +
      'machine can reach it.'
  else if (err.status === 401 || err.type === 'invalid_client' || err.type === 'invalid_grant')
    hint = ' Check the credentials: they are read from the environment of this command.'
  else if (err.status === 404) hint = ' Is MAUTIC_URL the root URL of Mautic (without /api)?'
  return `Cannot connect to Mautic: ${err.message}.${hint}`
}
