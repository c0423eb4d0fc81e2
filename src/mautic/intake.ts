/**
 * @module Webhook intake: every event of a verified body is recorded durably in one atomic write before
 * Mautic gets its 2xx (Mautic never retries after a response). A withdrawal is applied in that same
 * write, so the gate refuses the contact the moment Mautic has its answer; everything else (contact
 * upserts, form consents, send checks, deletions) is processed from the outbox, in order per Mautic
 * contact, with retries. A body delivered twice changes nothing the second time (receipt keys), even
 * when both copies are written at once (Node commits concurrent requests together; D1 isolates race).
 */
import type { CompiledQuery } from 'kysely'
import { findContactByBlindIndexes, findContactById } from '../db/repositories/contacts.ts'
import {
  insertReceiptQuery,
  isReceiptRace,
  knownReceipts,
  linkedContactId,
  noteBlockQuery,
} from '../db/repositories/mautic.ts'
import type { Deps } from '../deps.ts'
import { contactDataKey } from '../domain/platform/contacts.ts'
import {
  buildEventQueries,
  statesAtHead,
  commitWithChainRetry,
  type ChainHead,
} from '../domain/consent/ledger.ts'
import { enqueueQuery } from '../domain/platform/outbox.ts'
import { webhookEventCounterQueries } from '../domain/platform/counters.ts'
import { loadPurposes } from '../domain/consent/purposes.ts'
import { blindIndexes, normalizeEmail } from '../lib/email.ts'
import { isGatewayEntry, purposesOfChannel, withdrawable, withdrawalTime } from './signals.ts'
import { QUEUED, type IntakeEvent, type KeyedEvent } from './webhook-read.ts'

/** Mautic's status words for a DNC entry that stops sending (ChannelSubscriptionChange.php). */
const BLOCKING = new Set(['unsubscribed', 'manual'])

export type Outcome = 'queued' | 'applied' | 'stale' | 'echo' | 'recorded' | 'ignored'

export interface IntakeResult {
  received: number
  duplicates: number
  outcomes: Partial<Record<Outcome, number>>
}

export const mauticOrderingKey = (mauticId: string | number) => `mautic:${mauticId}`

/**
 * The optimistic write, the write after the look-up, and one more for a copy that committed between
 * that look-up and its write: the retry that follows finds every key of the winner.
 */
const MAX_ATTEMPTS = 3

/**
 * Events written per atomic unit. A queue-mode batch can hold tens of thousands (Mautic's
 * `webhook_limit`): written in one go, it held the process for seconds, every other request waiting.
 * In slices, with a turn of the event loop between them, other requests are served meanwhile; every
 * slice is still committed before Mautic gets its 2xx.
 */
export const INTAKE_SLICE = 250

/** Lets other requests (timers, sockets) run between two slices of a large batch. */
const yieldToOthers = () => new Promise<void>((resolve) => setTimeout(resolve, 0))

export async function acceptWebhook(deps: Deps, keyed: KeyedEvent[]): Promise<IntakeResult> {
  if (keyed.length <= INTAKE_SLICE) return acceptSlice(deps, keyed)
  const total: IntakeResult = { received: 0, duplicates: 0, outcomes: {} }
  for (let i = 0; i < keyed.length; i += INTAKE_SLICE) {
    if (i > 0) await yieldToOthers()
    const r = await acceptSlice(deps, keyed.slice(i, i + INTAKE_SLICE))
    total.received += r.received
    total.duplicates += r.duplicates
    for (const [o, n] of Object.entries(r.outcomes) as [Outcome, number][])
      total.outcomes[o] = (total.outcomes[o] ?? 0) + n
  }
  return total
}

async function acceptSlice(deps: Deps, keyed: KeyedEvent[]): Promise<IntakeResult> {
  // First written as if every event were new, without a look-up: Mautic sends each event once, so a
  // receipt read per body cost every delivery a query (a measurable share of the intake:
  // bench/results.md, "Measurements behind design choices") to spare the rare copy a failed write.
  // A copy fails on the receipt's primary key and nothing of its unit is written.
  let known: ReadonlySet<string> | null = NONE_KNOWN
  for (let attempt = 1; ; attempt++) {
    try {
      known ??= await knownReceipts(
        deps,
        keyed.map((k) => k.key),
      )
      return await recordEvents(deps, keyed, known)
    } catch (err) {
      // An event of this body was recorded before, or a copy of it committed between our look-up and
      // our write: take the body again with the receipts read, and that event is now a duplicate.
      if (!isReceiptRace(err) || attempt >= MAX_ATTEMPTS) throw err
      known = null
    }
  }
}

const NONE_KNOWN: ReadonlySet<string> = new Set()

async function recordEvents(
  deps: Deps,
  keyed: KeyedEvent[],
  known: ReadonlySet<string>,
): Promise<IntakeResult> {
  const seen = new Set<string>()
  const fresh = keyed.filter(({ key }) => !known.has(key) && !seen.has(key) && seen.add(key))
  const result: IntakeResult = {
    received: keyed.length,
    duplicates: keyed.length - fresh.length,
    outcomes: {},
  }
  if (fresh.length === 0) return result

  const now = deps.clock.now()
  const recordQueries: CompiledQuery[] = []
  const withdrawals: { event: IntakeEvent; key: string }[] = []
  // The daily counters of webhook events (src/domain/platform/counters.ts), in the same unit.
  const tallied = new Map<string, { type: string; outcome: string; n: number }>()
  const tally = (type: string, outcome: Outcome) => {
    const k = `${type}\u0000${outcome}`
    const t = tallied.get(k)
    if (t) t.n++
    else tallied.set(k, { type, outcome, n: 1 })
  }
  for (const { event, key, sealed } of fresh) {
    if (!event.known || !QUEUED.has(event.type)) {
      recordQueries.push(
        insertReceiptQuery(deps.db, { key, eventType: event.type, outcome: 'ignored', now }),
      )
      count(result, 'ignored')
      tally(event.type, 'ignored')
      continue
    }
    const change = event.channelChange
    if (change && BLOCKING.has(change.newStatus)) {
      withdrawals.push({ event, key })
      continue
    }
    recordQueries.push(
      insertReceiptQuery(deps.db, { key, eventType: event.type, outcome: 'queued', now }),
      enqueueQuery(deps.db, now, {
        kind: 'mautic.event',
        payload: {
          key,
          type: event.type,
          event: sealed!,
        },
        orderingKey: event.mauticId === null ? undefined : mauticOrderingKey(event.mauticId),
      }),
    )
    count(result, 'queued')
    tally(event.type, 'queued')
  }

  if (withdrawals.length === 0) {
    await deps.atomic([...recordQueries, ...webhookEventCounterQueries(tallied, now)])
    return result
  }
  const outcomes = await commitWithChainRetry(deps, async () => {
    const queries = [...recordQueries]
    const batch: Batch = { chains: [], withdrawn: new Map() }
    const outcomes: Outcome[] = []
    const counted = new Map([...tallied].map(([k, t]) => [k, { ...t }]))
    for (const w of withdrawals) {
      const built = await withdrawalQueries(deps, w.event, now, batch)
      queries.push(
        insertReceiptQuery(deps.db, {
          key: w.key,
          eventType: w.event.type,
          outcome: built.outcome,
          now,
        }),
        ...built.queries,
      )
      outcomes.push(built.outcome)
      const k = `${w.event.type}\u0000${built.outcome}`
      const t = counted.get(k)
      if (t) t.n++
      else counted.set(k, { type: w.event.type, outcome: built.outcome, n: 1 })
    }
    queries.push(...webhookEventCounterQueries(counted, now))
    return { queries, chains: batch.chains, result: outcomes }
  })
  for (const o of outcomes) count(result, o)
  return result
}

function count(result: IntakeResult, outcome: Outcome) {
  result.outcomes[outcome] = (result.outcomes[outcome] ?? 0) + 1
}

/** Chain heads and withdrawals built earlier in the same body: two events of one contact chain in turn. */
interface Batch {
  chains: ChainHead[]
  withdrawn: Map<string, Set<string>>
}

/**
 * The ledger events for a Mautic unsubscribe (or a staff Do-Not-Contact): every purpose of that channel
 * granted or pending before the event is withdrawn.
 */
async function withdrawalQueries(
  deps: Deps,
  event: IntakeEvent,
  now: number,
  batch: Batch,
): Promise<{ queries: CompiledQuery[]; outcome: Outcome }> {
  const change = event.channelChange!
  const entry = event.contact?.doNotContact.find((d) => d.channel === change.channel)
  if (entry && isGatewayEntry(entry)) return { queries: [], outcome: 'echo' }
  const at = event.timestamp ?? now
  const queries: CompiledQuery[] = []
  const mauticId = event.mauticId === null ? null : String(event.mauticId)
  // Remembered so that the mirror lifts this block only after a consent confirmed later.
  if (mauticId) queries.push(noteBlockQuery(deps.db, mauticId, at))

  const contact = await resolveContact(deps, mauticId, event.contact?.email ?? null)
  if (!contact || contact.status !== 'active') return { queries, outcome: 'recorded' }
  const purposes = await loadPurposes(deps.db, now)
  const { head, states } = await statesAtHead(deps, contact.id)
  const done = batch.withdrawn.get(contact.id) ?? new Set<string>()
  const signal = withdrawable(states, purposesOfChannel(purposes, change.channel), at)
  const keys = signal.change.filter((k) => !done.has(k))
  if (keys.length === 0) return { queries, outcome: signal.stale.length > 0 ? 'stale' : 'recorded' }

  const method = change.newStatus === 'manual' ? 'mautic_manual' : 'mautic_unsubscribe'
  const previous = batch.chains.find((c) => c.contactId === contact.id)
  const built = await buildEventQueries(
    deps,
    { id: contact.id, dataKey: await contactDataKey(deps, contact) },
    previous ?? head,
    keys.map((purposeKey) => ({
      purposeKey,
      action: 'withdrawn' as const,
      noticeId: null,
      method,
      source: `mautic:contact:${mauticId ?? '?'}`,
      evidence: {
        mautic_event: event.type,
        channel: change.channel,
        old_status: change.oldStatus,
        new_status: change.newStatus,
        comment: entry?.comments ?? null,
        mautic_timestamp: event.timestamp,
      },
      actor: 'mautic',
      occurredAt: withdrawalTime(at, signal.latest, now),
    })),
  )
  if (previous) batch.chains.splice(batch.chains.indexOf(previous), 1)
  batch.chains.push(built.chain)
  batch.withdrawn.set(contact.id, new Set([...done, ...keys]))
  // Tags and fields follow (the DNC entry is Mautic's own already).
  queries.push(
    ...built.queries,
    enqueueQuery(deps.db, now, {
      kind: 'mautic.mirror',
      payload: { contactId: contact.id },
      orderingKey: mauticOrderingKey(contact.id),
    }),
  )
  return { queries, outcome: 'applied' }
}

/** The gateway contact behind a Mautic id (its link) or, failing that, behind its address. */
export async function resolveContact(deps: Deps, mauticId: string | null, email: string | null) {
  const linked = mauticId ? await linkedContactId(deps.db, mauticId) : undefined
  if (linked) return findContactById(deps.db, linked)
  const normalized = email ? normalizeEmail(email) : null
  if (!normalized) return undefined
  return findContactByBlindIndexes(deps.db, await blindIndexes(deps.hmac, deps.keys, normalized))
}
