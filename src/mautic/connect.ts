/**
 * @module Self-registration in Mautic (`consent-gateway mautic connect`): checks the API access, creates
 * the contact fields and tags the mirror writes (README, "Connecting Mautic") and the webhook with a
 * freshly generated secret (research/mautic.md §1.4, as n8n's Mautic trigger does). Idempotent: what
 * exists is left alone, so a second run creates nothing.
 */
import type { Deps } from '../deps.ts'
import { loadPurposes, SENDING_CHANNELS } from '../domain/consent/purposes.ts'
import { toHex } from '../lib/encoding.ts'
import { consentTag } from './mirror.ts'
import { WEBHOOK_TRIGGERS } from './webhook-payload.ts'
import { MauticError, type MauticApi } from './types.ts'

export const NOT_CONFIGURED =
  'Mautic is not configured: set MAUTIC_URL (the root URL of your Mautic) and either ' +
  'MAUTIC_CLIENT_ID/MAUTIC_CLIENT_SECRET (Settings → API Credentials, OAuth 2) or ' +
  'MAUTIC_USERNAME/MAUTIC_PASSWORD (with "Enable HTTP basic auth" on in the API settings)'

export const PREFERENCES_FIELD = 'consent_preferences_url'

export type ConnectResult =
  | { ok: false; error: string }
  | {
      ok: true
      webhookUrl: string
      /** `secret` only when the webhook was created now: Mautic never gives an existing one back. */
      webhook: { id: number; created: true; secret: string } | { id: number; created: false }
      /** Triggers an existing webhook lacks (it is left as it is: the admin may have chosen them). */
      missingTriggers: string[]
      fieldsCreated: string[]
      tagsCreated: string[]
      /** Fields that exist with another type than the mirror writes (left alone, reported). */
      fieldTypeMismatches: { alias: string; type: string; expected: string }[]
    }

/** 32 random bytes, hex: the HMAC key Mautic signs each delivery with (`Webhook-Signature`). */
export const newWebhookSecret = () => toHex(crypto.getRandomValues(new Uint8Array(32)))

export async function connectMautic(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'mautic'>,
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
    const fields = await ensureFields(api, sending)
    const tagsCreated = await ensureTags(api, sending)
    // Last: when it fails after the fields, a second run finishes the job and creates the webhook once.
    const hook = await ensureWebhook(api, webhookUrl)
    return { ok: true, webhookUrl, ...hook, ...fields, tagsCreated }
  } catch (err) {
    if (err instanceof MauticError) return { ok: false, error: explainMauticError(err) }
    throw err
  }
}

async function ensureFields(api: MauticApi, sending: string[]) {
  const wanted = [
    { alias: PREFERENCES_FIELD, type: 'url' as const, label: 'Consent preferences URL' },
    ...sending.map((key) => ({
      alias: consentTag(key),
      type: 'boolean' as const,
      label: `Consent: ${key}`,
    })),
  ]
  const existing = new Map((await api.listFields()).map((f) => [f.alias, f.type]))
  const fieldsCreated: string[] = []
  const fieldTypeMismatches: { alias: string; type: string; expected: string }[] = []
  for (const f of wanted) {
    const type = existing.get(f.alias)
    if (type === undefined) {
      await api.createField(f)
      fieldsCreated.push(f.alias)
    } else if (type !== f.type) fieldTypeMismatches.push({ alias: f.alias, type, expected: f.type })
  }
  return { fieldsCreated, fieldTypeMismatches }
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

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '')

async function ensureWebhook(api: MauticApi, webhookUrl: string) {
  const existing = (await api.listWebhooks()).find((h) => sameUrl(h.webhookUrl, webhookUrl))
  if (existing)
    return {
      webhook: { id: existing.id, created: false as const },
      missingTriggers: WEBHOOK_TRIGGERS.filter((t) => !existing.triggers.includes(t)),
    }
  const secret = newWebhookSecret()
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
  return { webhook: { id, created: true as const, secret }, missingTriggers: [] }
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
