/**
 * @module Capturing consent (hosted form, API): per purpose, never bundled (EDPB 05/2020 §3.1.3).
 * Purposes that need double opt-in become "requested" and get ONE confirmation mail for the whole
 * request; the others are granted at once with their evidence. A purpose already granted is left as
 * it is: re-submitting a form must not reset it to pending (a third party could otherwise suspend
 * someone's subscription).
 */
import type { CompiledQuery } from 'kysely'
import { updateContactQuery, isSuppressed } from '../../db/repositories/contacts.ts'
import {
  countMailsSince,
  insertOptinRequestQuery,
  markSentQuery,
} from '../../db/repositories/optin.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes, normalizeEmail } from '../../lib/email.ts'
import type { Locale } from '../../lib/i18n.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { attributesAad, prepareContact } from '../platform/contacts.ts'
import { decide } from './gate-decision.ts'
import {
  buildEventQueries,
  statesAtHead,
  commitWithChainRetry,
  GENESIS_HASH,
  type NewConsentEvent,
} from './ledger.ts'
import type { NoticeRow } from '../../db/repositories/purposes.ts'
import { enqueueQuery } from '../platform/outbox.ts'
import { loadPurposes, SENDING_CHANNELS } from './purposes.ts'

export const CONFIRM_TTL_MS = 7 * 86_400_000
/** At most one confirmation mail per contact every 5 minutes, and 5 a day (resending is throttled). */
const THROTTLE = { shortMs: 5 * 60_000, shortMax: 1, dayMax: 5 }

export interface SubscribeInput {
  email: string
  purposes: string[]
  locale: Locale
  method: 'form' | 'api' | 'preference_center'
  source: string
  actor: string
  evidence: Record<string, unknown>
  attributes?: Record<string, string>
  /**
   * The exact published notice each purpose was shown with, when the caller knows it (a Mautic form
   * mapped to a notice version): proof must name what was shown, not what is current.
   */
  notices?: Record<string, NoticeRow>
}

export type PurposeOutcome = 'pending' | 'granted'

export type SubscribeResult =
  | {
      ok: true
      contactId: string
      purposes: Record<string, PurposeOutcome>
      confirmation: 'sent' | 'throttled' | 'none'
    }
  | {
      ok: false
      code: 'invalid_email' | 'invalid_purposes' | 'unknown_purpose' | 'notice_missing'
      message: string
    }

export async function subscribe(deps: Deps, input: SubscribeInput): Promise<SubscribeResult> {
  const email = normalizeEmail(input.email)
  if (!email)
    return { ok: false, code: 'invalid_email', message: 'email is not a valid e-mail address' }
  const keys = [...new Set(input.purposes)]
  if (keys.length === 0)
    return {
      ok: false,
      code: 'invalid_purposes',
      message: 'purposes must list at least one purpose',
    }
  const now = deps.clock.now()
  const purposes = await loadPurposes(deps.db, now)
  for (const key of keys) {
    const p = purposes.get(key)
    if (!p) return { ok: false, code: 'unknown_purpose', message: `Unknown purpose "${key}"` }
    if (!input.notices?.[key] && !p.current[input.locale])
      return {
        ok: false,
        code: 'notice_missing',
        message: `Purpose "${key}" has no published notice in "${input.locale}"`,
      }
  }

  const bidxes = await blindIndexes(deps.hmac, deps.keys, email)
  // Parallel requests for one address are built one after another (see ledger.ts); across
  // processes, the one that loses the race to create the contact is rebuilt on the winner's.
  return commitWithChainRetry(
    deps,
    async () => {
      const contact = await prepareContact(deps, email, input.locale, input.attributes)
      const id = contact.row.id
      const suppressed = await isSuppressed(deps.db, bidxes)
      const { head, states } = contact.isNew
        ? { head: { seq: 0, hash: GENESIS_HASH }, states: [] }
        : await statesAtHead(deps, id)
      const events: NewConsentEvent[] = []
      const outcome: Record<string, PurposeOutcome> = {}
      const doi: string[] = []
      const notices: Record<string, string> = {}

      for (const key of keys) {
        const purpose = purposes.get(key)!
        const notice = input.notices?.[key] ?? purpose.current[input.locale]!
        const state = states.find((s) => s.purpose_key === key)
        const facts = state && {
          status: state.status,
          grantedAt: state.granted_at,
          noticeVersion: state.notice_version,
          noticeLocale: state.notice_locale,
        }
        if (
          facts?.status === 'granted' &&
          decide(purpose, { contactFound: true, suppressed, objected: false, state: facts }, now)
            .allowed
        ) {
          outcome[key] = 'granted' // already consented: never back to pending
          continue
        }
        // Only a subscription the person confirms by double opt-in lifts a suppression (erasure, objection).
        const needsDoi =
          purpose.doubleOptIn || (suppressed && SENDING_CHANNELS.has(purpose.channel))
        events.push({
          purposeKey: key,
          action: needsDoi ? 'requested' : 'granted',
          noticeId: notice.id,
          noticeVersion: notice.version,
          noticeLocale: notice.locale,
          method: input.method,
          source: input.source,
          evidence: { ...input.evidence, notice_hash: notice.content_hash, locale: input.locale },
          actor: input.actor,
          occurredAt: now,
        })
        outcome[key] = needsDoi ? 'pending' : 'granted'
        if (needsDoi) {
          doi.push(key)
          notices[key] = notice.id
        }
      }

      const queries: CompiledQuery[] = [...contact.insert]
      if (!contact.isNew && input.attributes)
        queries.push(await mergeAttributes(deps, contact.row, input.attributes, now))
      const built = await buildEventQueries(deps, { id, dataKey: contact.dataKey }, head, events)
      queries.push(...built.queries)

      let confirmation: 'sent' | 'throttled' | 'none' = 'none'
      if (doi.length > 0) {
        const requestId = crypto.randomUUID()
        const throttled = !contact.isNew && (await isThrottled(deps, id, now))
        queries.push(
          insertOptinRequestQuery(deps.db, {
            id: requestId,
            contact_id: id,
            purposes: JSON.stringify(doi),
            notices: JSON.stringify(notices),
            locale: input.locale,
            source: input.source,
            status: 'pending',
            created_at: now,
            expires_at: now + CONFIRM_TTL_MS,
            confirmed_at: null,
            last_sent_at: null,
            send_count: 0,
          }),
        )
        if (!throttled) {
          queries.push(markSentQuery(deps.db, requestId, now))
          queries.push(
            enqueueQuery(deps.db, now, {
              kind: 'mail.confirm',
              payload: { requestId },
              orderingKey: id,
            }),
          )
        }
        confirmation = throttled ? 'throttled' : 'sent'
      }
      return {
        queries,
        chains: events.length > 0 ? [built.chain] : [],
        result: { ok: true as const, contactId: id, purposes: outcome, confirmation },
      }
    },
    { key: `address:${bidxes[0]}` },
  )
}

export async function isThrottled(
  deps: Pick<Deps, 'db'>,
  contactId: string,
  now: number,
): Promise<boolean> {
  if ((await countMailsSince(deps.db, contactId, now - THROTTLE.shortMs)) >= THROTTLE.shortMax)
    return true
  return (await countMailsSince(deps.db, contactId, now - 86_400_000)) >= THROTTLE.dayMax
}

export async function mergeAttributes(
  deps: Pick<Deps, 'db' | 'keys'>,
  row: { id: string; attributes_enc: string | null },
  attributes: Record<string, string>,
  now: number,
): Promise<CompiledQuery> {
  const aad = attributesAad(row.id)
  const current = row.attributes_enc
    ? (JSON.parse(await decryptField(deps.keys, row.attributes_enc, aad)) as object)
    : {}
  const merged = JSON.stringify({ ...current, ...attributes })
  return updateContactQuery(deps.db, row.id, {
    attributes_enc: await encryptField(deps.keys, merged, aad),
    updated_at: now,
  })
}
