/**
 * @module The `mautic.event` outbox message: one webhook event, processed after Mautic had its answer,
 * in order per Mautic contact. Mautic is never a source of consent (it keeps no proof): its data can
 * create and update contacts, withdraw, flag and link — never grant, except through a mapped form
 * submission, which is captured with its evidence and confirmed by double opt-in like any other.
 */
import type { CompiledQuery } from 'kysely'
import { findContactByBlindIndexes, isSuppressed } from '../db/repositories/contacts.ts'
import {
  deleteMirrorQuery,
  findMirror,
  linkQuery,
  mauticIdsOf,
  noteBlockQuery,
  setReceiptOutcomeQuery,
  unlinkQuery,
  upsertMirrorQuery,
} from '../db/repositories/mautic.ts'
import { insertFindingQuery, openFindingPurposes } from '../db/repositories/findings.ts'
import { findPublishedNotice, type NoticeRow } from '../db/repositories/purposes.ts'
import type { FindingKind } from '../db/database.ts'
import type { MirrorTarget, OutboxPayloads } from '../domain/platform/outbox-messages.ts'
import { emailPurposeOf, formFieldsOf } from '../db/repositories/mautic-mappings.ts'
import type { Deps } from '../deps.ts'
import { prepareContact } from '../domain/platform/contacts.ts'
import { noteActivity } from '../domain/platform/activity.ts'
import { gateBatch } from '../domain/sending/gate.ts'
import {
  buildEventQueries,
  commitWithChainRetry,
  GENESIS_HASH,
  statesAtHead,
} from '../domain/consent/ledger.ts'
import { enqueueQuery } from '../domain/platform/outbox.ts'
import { loadPurposes, SENDING_CHANNELS } from '../domain/consent/purposes.ts'
import { mergeAttributes, subscribe } from '../domain/consent/subscriptions.ts'
import { blindIndexes, normalizeEmail } from '../lib/email.ts'
import { decryptField } from '../lib/keys.ts'
import { webhookOutcomeQueries } from '../domain/platform/counters.ts'
import { mirrorMode } from '../domain/platform/settings.ts'
import { mauticOrderingKey, resolveContact, type Outcome } from './intake.ts'
import { eventAad } from './webhook-read.ts'
import { consentFieldAlias } from './field-aliases.ts'
import { desiredFor, foreignBlock, planChanges } from './mirror.ts'
import { isGatewayEntry, purposesOfChannel, withdrawable, withdrawalTime } from './signals.ts'
import { mauticAttributes, mauticLocale } from './sync.ts'
import { parseCompactEvent, type MauticEvent } from './webhook-payload.ts'

/** A Mautic contact deleted for a merge is re-linked within this time; after it, the data is erased. */
export const UNLINK_GRACE_MS = 7 * 86_400_000

/** The compact event (webhook-payload.ts) travels encrypted: it holds personal data. */
type EventMessage = OutboxPayloads['mautic.event']

export async function processMauticEvent(deps: Deps, msg: EventMessage): Promise<Outcome> {
  const event = parseCompactEvent(await decryptField(deps.keys, msg.event, eventAad(msg.key)))
  const outcome = await dispatch(deps, event)
  await deps.atomic([
    ...webhookOutcomeQueries(msg.key, outcome, deps.clock.now()),
    setReceiptOutcomeQuery(deps.db, msg.key, outcome),
  ])
  return outcome
}

function dispatch(deps: Deps, event: MauticEvent): Promise<Outcome> {
  switch (event.type) {
    case 'mautic.lead_post_save_new':
    case 'mautic.lead_post_save_update':
      return contactSaved(deps, event)
    case 'mautic.lead_post_delete':
      return contactDeleted(deps, event)
    case 'mautic.form_on_submit':
      return formSubmitted(deps, event)
    case 'mautic.email_on_send':
      return emailSent(deps, event)
    case 'mautic.lead_channel_subscription_changed':
      return channelChanged(deps, event)
    default:
      return Promise.resolve('ignored')
  }
}

const mirrorMessage = (deps: Deps, now: number, target: MirrorTarget) =>
  enqueueQuery(deps.db, now, {
    kind: 'mautic.mirror',
    payload: target,
    orderingKey: mauticOrderingKey(target.contactId ?? target.mauticId!),
  })

const finding = (
  deps: Deps,
  now: number,
  kind: FindingKind,
  f: {
    contactId: string | null
    mauticId: string | null
    purposeKey: string | null
    details: Record<string, unknown>
  },
) => insertFindingQuery(deps.db, { kind, now, ...f })

/**
 * lead_post_save_new/update: the contact upserted and linked (its address may have changed: the link
 * follows the address), personal fields stored encrypted, consent signals read (a DNC withdraws, a
 * `consent_<key>` field can withdraw but never grant), and the mirror asked to correct what differs.
 */
async function contactSaved(deps: Deps, event: MauticEvent): Promise<Outcome> {
  const c = event.contact
  const email = c?.email ? normalizeEmail(c.email) : null
  if (!c || event.mauticId === null || !email) return 'recorded'
  const mauticId = String(event.mauticId)
  const now = deps.clock.now()
  const at = event.timestamp ?? now
  const bidxes = await blindIndexes(deps.hmac, deps.keys, email)
  const known = await findContactByBlindIndexes(deps.db, bidxes)
  if (known?.status !== 'active' && (await isSuppressed(deps.db, bidxes))) {
    // Erased: never re-imported (Art. 17); Mautic is told to leave the address alone. (A contact who
    // objected is still ours, suppressed but active: it keeps its links, or its erasure, corrections
    // and data page could no longer reach Mautic.)
    await deps.atomic([unlinkQuery(deps.db, mauticId), mirrorMessage(deps, now, { mauticId })])
    return 'applied'
  }
  const attributes = mauticAttributes(c.fields)
  const purposes = await loadPurposes(deps.db, now)

  return commitWithChainRetry(deps, async () => {
    const ctx = await prepareContact(deps, email, mauticLocale(c.fields), attributes)
    const id = ctx.row.id
    const queries: CompiledQuery[] = [...ctx.insert, linkQuery(deps.db, mauticId, id, now)]
    if (!ctx.isNew && Object.keys(attributes).length > 0)
      queries.push(await mergeAttributes(deps, ctx.row, attributes, now))
    const { head, states } = ctx.isNew
      ? { head: { seq: 0, hash: GENESIS_HASH }, states: [] }
      : await statesAtHead(deps, id)

    // Withdrawals: the contact's own Mautic DNC on any channel (if its channel-change event was lost),
    // or a consent field set to false.
    const withdraw = new Set<string>()
    let latest = -Infinity
    const take = (signal: { change: string[]; latest: number }) => {
      for (const k of signal.change) withdraw.add(k)
      latest = Math.max(latest, signal.latest)
    }
    const foreign = foreignBlock(c)
    if (foreign) queries.push(noteBlockQuery(deps.db, mauticId, at))
    const blocks = c.doNotContact.filter((d) => d.reason !== 2 && !isGatewayEntry(d))
    for (const d of blocks) take(withdrawable(states, purposesOfChannel(purposes, d.channel), at))
    // Before any change: what the gateway would write, and what it last wrote (enforce mode only).
    const desired = await desiredFor(deps, ctx.isNew ? null : id)
    const memory = await findMirror(deps.db, mauticId)
    const wrote = new Set<string>(
      (await mirrorMode(deps)) === 'enforce' && memory?.mirrored_state
        ? (JSON.parse(memory.mirrored_state) as { allowed: string[] }).allowed
        : [],
    )
    const claims: string[] = []
    for (const p of purposes.values()) {
      if (!SENDING_CHANNELS.has(p.channel)) continue
      const alias = desired.fieldAliases.get(p.key) ?? consentFieldAlias(p.key)
      const v = c.fields[alias]
      if (v === null || v === undefined) continue
      const claimed = v === true || v === 1 || v === '1' || v === 'true' || v === 'yes'
      const state = states.find((s) => s.purpose_key === p.key)
      // `false` withdraws only a true → false change made in Mautic: where the gateway wrote `true`
      // and still would. Anything else may be the field's default, or the echo of the gateway's own
      // write (a pending double opt-in shows `false` until confirmed); in observe mode it writes none.
      if (!claimed) {
        if (wrote.has(p.key) && desired.allowed.has(p.key)) take(withdrawable(states, [p.key], at))
      } else if (state?.status !== 'granted') claims.push(p.key)
    }
    const open = await openClaims(deps, mauticId)
    for (const key of claims.filter((k) => !open.has(k)))
      queries.push(
        finding(deps, now, 'unproven_consent_claim', {
          contactId: id,
          mauticId,
          purposeKey: key,
          details: {
            field: desired.fieldAliases.get(key) ?? consentFieldAlias(key),
            mautic_event: event.type,
            mautic_timestamp: event.timestamp,
          },
        }),
      )
    const chains = []
    if (withdraw.size > 0) {
      const built = await buildEventQueries(
        deps,
        { id, dataKey: ctx.dataKey },
        head,
        [...withdraw].map((purposeKey) => ({
          purposeKey,
          action: 'withdrawn' as const,
          noticeId: null,
          method: blocks.length > 0 ? 'mautic_unsubscribe' : 'mautic_field',
          source: `mautic:contact:${mauticId}`,
          evidence: {
            mautic_event: event.type,
            dnc: foreign ?? blocks[0] ?? null,
            mautic_timestamp: event.timestamp,
          },
          actor: 'mautic',
          occurredAt: withdrawalTime(at, latest, now),
        })),
      )
      queries.push(...built.queries)
      chains.push(built.chain)
    }
    // Mautic out of step with the ledger (a DNC lifted by hand, a tag added…): the mirror corrects it.
    const differs = withdraw.size > 0 || ctx.isNew || planChanges(desired, c, memory).length > 0
    if (differs) queries.push(mirrorMessage(deps, now, { contactId: id }))
    return { queries, chains, result: (withdraw.size > 0 ? 'applied' : 'recorded') as Outcome }
  })
}

function openClaims(deps: Deps, mauticId: string): Promise<Set<string>> {
  return openFindingPurposes(deps.db, mauticId, 'unproven_consent_claim')
}

/**
 * lead_post_delete: the link goes. Mautic also deletes for merges and retention clean-ups, so this is
 * not the person's erasure request: no suppression; the personal data is erased only if no Mautic
 * contact links to the person again within the grace period (a merge re-links at once).
 */
async function contactDeleted(deps: Deps, event: MauticEvent): Promise<Outcome> {
  if (event.mauticId === null) return 'recorded'
  const mauticId = String(event.mauticId)
  const now = deps.clock.now()
  const contact = await resolveContact(deps, mauticId, null)
  const queries = [unlinkQuery(deps.db, mauticId), deleteMirrorQuery(deps.db, mauticId)]
  if (contact && contact.status === 'active') {
    const others = (await mauticIdsOf(deps.db, contact.id)).filter((m) => m !== mauticId)
    if (others.length === 0)
      queries.push(
        enqueueQuery(deps.db, now, {
          kind: 'mautic.orphan',
          payload: { contactId: contact.id },
          // No ordering key: a message due in a week must not hold back the contact's mirror calls.
          notBefore: now + UNLINK_GRACE_MS,
        }),
      )
  }
  await deps.atomic(queries)
  return 'applied'
}

const TICKED = (v: string) =>
  v !== '' && v !== '0' && v.toLowerCase() !== 'false' && v.toLowerCase() !== 'no'

/**
 * form_on_submit: a mapped box ticked on a Mautic form is a consent request, with the submission's IP,
 * referer, form and time as evidence and the notice version that form shows (mautic_form_fields);
 * double opt-in follows where the purpose requires it. Unmapped forms are recorded only.
 */
async function formSubmitted(deps: Deps, event: MauticEvent): Promise<Outcome> {
  const s = event.submission
  if (!s || s.formId === null) return 'recorded'
  // Any submission is a contact the person initiated: the retention rule counts it (README, "Retention").
  const known = await resolveContact(
    deps,
    event.mauticId === null ? null : String(event.mauticId),
    event.contact?.email ?? s.results.email ?? null,
  )
  if (known?.status === 'active')
    await noteActivity(
      deps,
      known.id,
      s.submittedAt ?? event.timestamp ?? deps.clock.now(),
      'mautic_form',
    )
  const mapping = await formFieldsOf(deps.db, String(s.formId))
  const ticked = mapping.filter((m) => TICKED(String(s.results[m.field_alias] ?? '')))
  const email = event.contact?.email ?? s.results.email ?? null
  if (ticked.length === 0 || !email) return 'recorded'
  const notices: Record<string, NoticeRow> = {}
  for (const m of ticked) {
    const notice = await findPublishedNotice(deps.db, m.purpose_key, m.locale, m.notice_version)
    if (!notice)
      throw new Error(
        `form ${s.formId}: notice ${m.purpose_key} v${m.notice_version} (${m.locale}) is not published`,
      )
    notices[m.purpose_key] = notice
  }
  const result = await subscribe(deps, {
    email,
    purposes: ticked.map((m) => m.purpose_key),
    locale: ticked[0]!.locale,
    method: 'form',
    source: `mautic-form:${s.formId}`,
    actor: 'contact',
    notices,
    evidence: {
      ip: s.ip,
      referer: s.referer,
      mautic_form_id: s.formId,
      mautic_form_name: s.formName,
      mautic_submission_id: s.id,
      tracking_id: s.trackingId,
      submitted_at: s.submittedAt,
      fields: ticked.map((m) => m.field_alias),
    },
  })
  if (!result.ok) {
    deps.logger.log('warn', 'Mautic form submission not captured', {
      formId: s.formId,
      code: result.code,
    })
    return 'recorded'
  }
  if (event.mauticId !== null)
    await deps.atomic([
      linkQuery(deps.db, String(event.mauticId), result.contactId, deps.clock.now()),
    ])
  return 'applied'
}

/**
 * email_on_send: fired when Mautic sends, so it cannot veto; it is checked against the ledger
 * afterwards, and a send without valid consent becomes a compliance finding and is corrected (mirror).
 */
async function emailSent(deps: Deps, event: MauticEvent): Promise<Outcome> {
  const send = event.emailSend
  if (!send || event.mauticId === null) return 'recorded'
  // The gateway's own double opt-in mail (MAIL_TRANSPORT=mautic) is transactional: not a marketing send.
  if (send.emailId !== null && send.emailId === deps.config.mautic?.confirmEmailId) return 'echo'
  // Transactional mail (no List-Unsubscribe: password resets, receipts) is not a marketing send.
  if (send.isTransactional === true) return 'recorded'
  const mauticId = String(event.mauticId)
  const purpose =
    (await emailPurposeOf(
      deps.db,
      send.emailId === null ? null : String(send.emailId),
      send.categoryId === null ? null : String(send.categoryId),
    )) ?? 'email_marketing'
  const contact = await resolveContact(deps, mauticId, event.contact?.email ?? null)
  const now = deps.clock.now()
  const decision = contact
    ? await gateBatch(deps, purpose, [{ contact_id: contact.id }])
    : { ok: true as const, decisions: [{ allowed: false, reason: 'unknown_contact' as const }] }
  if (!decision.ok) return 'recorded'
  const d = decision.decisions[0]!
  if (d.allowed) return 'recorded'
  await deps.atomic([
    finding(deps, now, 'send_without_consent', {
      contactId: contact?.id ?? null,
      mauticId,
      purposeKey: purpose,
      details: {
        email_id: send.emailId,
        category_id: send.categoryId,
        source: send.source,
        reason: d.reason,
        mautic_timestamp: event.timestamp,
      },
    }),
    mirrorMessage(deps, now, contact ? { contactId: contact.id } : { mauticId }),
  ])
  return 'applied'
}

/** A bounce is flagged (it is not a withdrawal); a DNC lifted in Mautic is checked by the mirror. */
async function channelChanged(deps: Deps, event: MauticEvent): Promise<Outcome> {
  const change = event.channelChange
  if (!change || event.mauticId === null) return 'recorded'
  const mauticId = String(event.mauticId)
  const now = deps.clock.now()
  const contact = await resolveContact(deps, mauticId, event.contact?.email ?? null)
  if (change.newStatus === 'bounced') {
    await deps.atomic([
      upsertMirrorQuery(deps.db, mauticId, { bounced_at: event.timestamp ?? now }),
      finding(deps, now, 'bounced', {
        contactId: contact?.id ?? null,
        mauticId,
        purposeKey: null,
        details: { channel: change.channel, mautic_timestamp: event.timestamp },
      }),
    ])
    return 'applied'
  }
  if (change.newStatus === 'contactable') {
    await deps.atomic([
      mirrorMessage(deps, now, contact ? { contactId: contact.id } : { mauticId }),
    ])
    return 'applied'
  }
  return 'recorded'
}
