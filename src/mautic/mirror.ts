/**
 * @module The mirror: Mautic's Do-Not-Contact, tags and fields made to match the ledger, so that Mautic
 * itself only mails contacts with valid consent (README, "Connecting Mautic").
 * - DNC on the e-mail channel while the contact holds no valid grant for any e-mail purpose; lifted when
 *   it gets one — but a block the gateway did not write (the contact's own unsubscribe in Mautic, a
 *   staff DNC) only by a grant confirmed after it was seen, and a bounce never (Mautic's "remove DNC"
 *   removes whatever the reason: the policy is ours, docs/mautic.md §2.3).
 * - the tag and boolean field `consent_<key>` per sending purpose (DNC is per channel, consent per
 *   purpose), and the field `consent_preferences_url`.
 * MIRROR_MODE=observe writes nothing and keeps the changes it would make; enforce writes them.
 */
import { findContactById } from '../db/repositories/contacts.ts'
import { findStates } from '../db/repositories/ledger.ts'
import {
  findMirror,
  linkQuery,
  mauticIdsOf,
  noteBlockQuery,
  unlinkQuery,
  upsertMirrorQuery,
  type MirrorRow,
} from '../db/repositories/mautic.ts'
import type { MirrorTarget } from '../domain/platform/outbox-messages.ts'
import type { Deps } from '../deps.ts'
import { mirrorMode } from '../domain/platform/settings.ts'
import { gateBatch } from '../domain/sending/gate.ts'
import { preferencesUrl } from '../domain/sending/links.ts'
import { loadPurposes, SENDING_CHANNELS } from '../domain/consent/purposes.ts'
import { consentFieldAlias, fieldAliases } from './field-aliases.ts'
import { GATEWAY_MARK, isAfterMauticTime, isGatewayEntry } from './signals.ts'
import type { DncReason, MauticApi, MauticDnc } from './types.ts'

/** What Mautic should show for one gateway contact (or for none: an address nobody consented with). */
export interface Desired {
  contactId: string | null
  /** Sending purposes the gate allows now. */
  allowed: Set<string>
  /** Every sending purpose (a tag and a field each). */
  sending: string[]
  /** purpose key → the alias of its consent field in Mautic (./field-aliases.ts). */
  fieldAliases: Map<string, string>
  /** No e-mail purpose allowed: Do-Not-Contact on the e-mail channel. */
  blockEmail: boolean
  /** Reason to write when blocking: 1 when the person withdrew, 3 when there is simply no consent. */
  blockReason: DncReason
  /** When the newest allowed e-mail grant was given: only it can lift a block seen before. */
  latestEmailGrant: number | null
  preferencesUrl: string | null
}

/** What Mautic shows now (from a webhook or a GET). */
export interface Observed {
  doNotContact: MauticDnc[]
  tags: string[]
  fields: Record<string, unknown>
}

export type Change =
  | { op: 'add_dnc'; reason: DncReason; comments: string }
  | { op: 'remove_dnc'; was: DncReason }
  | { op: 'tag'; tag: string; present: boolean }
  | { op: 'field'; alias: string; value: boolean | string }

/** The tag per purpose (tags have no 25-character limit; fields do: ./field-aliases.ts). */
export const consentTag = (purposeKey: string) => `consent_${purposeKey}`

export async function desiredFor(deps: Deps, contactId: string | null): Promise<Desired> {
  const now = deps.clock.now()
  const purposes = await loadPurposes(deps.db, now)
  const sending = [...purposes.values()].filter((p) => SENDING_CHANNELS.has(p.channel))
  const contact = contactId ? await findContactById(deps.db, contactId) : undefined
  const active = contact?.status === 'active' ? contact : undefined
  const allowed = new Set<string>()
  if (active)
    for (const p of sending) {
      const r = await gateBatch(deps, p.key, [{ contact_id: active.id }])
      if (r.ok && r.decisions[0]!.allowed) allowed.add(p.key)
    }
  const states = active ? await findStates(deps.db, active.id) : []
  const email = sending.filter((p) => p.channel === 'email')
  const grants = states
    .filter((s) => allowed.has(s.purpose_key) && email.some((p) => p.key === s.purpose_key))
    .map((s) => s.granted_at ?? s.changed_at)
  const withdrew = states.some(
    (s) => s.status === 'withdrawn' && email.some((p) => p.key === s.purpose_key),
  )
  return {
    contactId: active?.id ?? null,
    allowed,
    sending: sending.map((p) => p.key),
    fieldAliases: await fieldAliases(
      deps.db,
      sending.map((p) => p.key),
    ),
    blockEmail: !email.some((p) => allowed.has(p.key)),
    blockReason: withdrew || (active?.objected_at ?? null) !== null ? 1 : 3,
    latestEmailGrant: grants.length > 0 ? Math.max(...grants) : null,
    preferencesUrl: active ? preferencesUrl(deps, active.id) : null,
  }
}

const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 'true' || v === 'yes'

/** The changes that make `observed` match `desired`, under the lifting rules above. */
export function planChanges(
  desired: Desired,
  observed: Observed,
  memory: MirrorRow | undefined,
): Change[] {
  const changes: Change[] = []
  const entry = observed.doNotContact.find((d) => d.channel === 'email')
  if (desired.blockEmail && !entry)
    changes.push({
      op: 'add_dnc',
      reason: desired.blockReason,
      comments:
        desired.blockReason === 1
          ? `${GATEWAY_MARK}: consent withdrawn by the contact`
          : `${GATEWAY_MARK}: no valid consent for e-mail`,
    })
  if (!desired.blockEmail && entry && entry.reason !== 2) {
    const seenAt = memory?.own_unsubscribe_at ?? null
    // The block's time may be Mautic's (whole seconds): a grant in that same second does not lift it.
    const liftable =
      isGatewayEntry(entry) ||
      (seenAt !== null &&
        desired.latestEmailGrant !== null &&
        isAfterMauticTime(desired.latestEmailGrant, seenAt))
    if (liftable) changes.push({ op: 'remove_dnc', was: entry.reason })
  }
  const tags = new Set(observed.tags)
  for (const key of desired.sending) {
    const tag = consentTag(key)
    const want = desired.allowed.has(key)
    if (want !== tags.has(tag)) changes.push({ op: 'tag', tag, present: want })
    const alias = desired.fieldAliases.get(key) ?? consentFieldAlias(key)
    if (truthy(observed.fields[alias]) !== want || observed.fields[alias] == null)
      changes.push({ op: 'field', alias, value: want })
  }
  if (desired.preferencesUrl && observed.fields.consent_preferences_url !== desired.preferencesUrl)
    changes.push({ op: 'field', alias: 'consent_preferences_url', value: desired.preferencesUrl })
  return changes
}

/** A block the gateway did not write: remembered from the first time it is seen. */
export function foreignBlock(observed: Observed): MauticDnc | undefined {
  const entry = observed.doNotContact.find((d) => d.channel === 'email')
  return entry && entry.reason !== 2 && !isGatewayEntry(entry) ? entry : undefined
}

async function applyChanges(api: MauticApi, mauticId: number, changes: Change[]): Promise<void> {
  for (const c of changes) {
    if (c.op === 'add_dnc')
      await api.addDnc(mauticId, 'email', { reason: c.reason, comments: c.comments })
    if (c.op === 'remove_dnc') await api.removeDnc(mauticId, 'email')
  }
  const fields: Record<string, unknown> = {}
  const tags: string[] = []
  for (const c of changes) {
    if (c.op === 'field') fields[c.alias] = c.value
    if (c.op === 'tag') tags.push(c.present ? c.tag : `-${c.tag}`)
  }
  if (Object.keys(fields).length > 0 || tags.length > 0)
    await api.editContact(mauticId, { fields, ...(tags.length > 0 ? { tags } : {}) })
}

/**
 * The `mautic.mirror` outbox message: for each Mautic contact linked to the gateway contact (or the one
 * Mautic id given), read it, plan, then write (enforce) or keep the plan (observe). Throws on a Mautic
 * failure, so the outbox retries.
 */
export async function mirror(deps: Deps, target: MirrorTarget): Promise<Record<string, Change[]>> {
  const api = deps.mautic
  if (!api) return {}
  const ids = target.contactId ? await mauticIdsOf(deps.db, target.contactId) : []
  if (target.mauticId && !ids.includes(target.mauticId)) ids.push(target.mauticId)
  const desired = await desiredFor(deps, target.contactId ?? null)
  const report: Record<string, Change[]> = {}
  const enforce = (await mirrorMode(deps)) === 'enforce'
  for (const id of ids) {
    const now = deps.clock.now()
    const contact = await api.getContact(Number(id))
    if (!contact) {
      await deps.atomic([unlinkQuery(deps.db, id)]) // deleted in Mautic meanwhile
      continue
    }
    const actualId = String(contact.id)
    if (actualId !== id && target.contactId)
      // Mautic merged this contact into another one: follow the winner.
      await deps.atomic([
        unlinkQuery(deps.db, id),
        linkQuery(deps.db, actualId, target.contactId, now),
      ])
    const foreign = foreignBlock(contact)
    if (foreign) await deps.atomic([noteBlockQuery(deps.db, actualId, now)])
    const memory = await findMirror(deps.db, actualId)
    const changes = planChanges(desired, contact, memory)
    report[actualId] = changes
    if (enforce) {
      if (changes.length > 0) await applyChanges(api, contact.id, changes)
      await deps.atomic([
        upsertMirrorQuery(deps.db, actualId, {
          contact_id: desired.contactId,
          // A block lifted is forgotten: a later one counts from its own first sighting.
          ...(changes.some((ch) => ch.op === 'remove_dnc') ? { own_unsubscribe_at: null } : {}),
          mirrored_at: now,
          mirrored_state: JSON.stringify({
            allowed: [...desired.allowed],
            block: desired.blockEmail,
          }),
          pending_changes: null,
        }),
      ])
    } else {
      await deps.atomic([
        upsertMirrorQuery(deps.db, actualId, {
          contact_id: desired.contactId,
          observed_at: now,
          pending_changes: changes.length > 0 ? JSON.stringify(changes) : null,
        }),
      ])
      if (changes.length > 0)
        deps.logger.log('info', 'mirror (observe): changes not written', {
          mauticId: actualId,
          changes: changes.map((c) => c.op),
        })
    }
  }
  return report
}
