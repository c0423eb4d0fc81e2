/**
 * @module Signed checkpoints over the heads of every consent chain, and the verification of the whole
 * ledger (`consent-gateway verify-ledger`). Per-contact chains show any edited or removed event in the
 * middle of a chain; a checkpoint also shows a chain deleted whole or cut short at its end. Checkpoints
 * also sign the head of the admin audit chain (src/domain/admin/audit.ts), so a cut audit tail shows.
 */
import {
  chainHeadsAt,
  countEventsAt,
  eventsPage,
  insertCheckpoint,
  latestCheckpoint,
  listCheckpoints,
} from '../../db/repositories/checkpoints.ts'
import { findAuditHeadAt, findAuditRow } from '../../db/repositories/audit.ts'
import type { Deps } from '../../deps.ts'
import { toHex, utf8 } from '../../lib/encoding.ts'
import { eventHash, GENESIS_HASH } from './ledger.ts'
import { CHECKPOINT_TYP, signStatement, verifyStatement } from './signing-keys.ts'

/** Writes that started this long ago have committed or failed: a checkpoint covers only those. */
const SETTLE_MS = 60_000
export const CHECKPOINT_INTERVAL_MS = 60 * 60_000

async function headsDigest(deps: Pick<Deps, 'db'>, until: number) {
  const heads = await chainHeadsAt(deps.db, until)
  const lines = heads.map((h) => `${h.contact_id}:${h.seq}:${h.hash}`).join('\n')
  const digest = toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(lines))))
  return { digest, chains: heads.length, events: await countEventsAt(deps.db, until) }
}

/** Signs a checkpoint when the last one is older than the interval (or `force`). */
export async function maybeCheckpoint(deps: Deps, force = false): Promise<boolean> {
  const now = deps.clock.now()
  const last = await latestCheckpoint(deps.db)
  if (!force && last && now - last.created_at < CHECKPOINT_INTERVAL_MS) return false
  const coveredUntil = now - SETTLE_MS
  const { digest, chains, events } = await headsDigest(deps, coveredUntil)
  const audit = await findAuditHeadAt(deps.db, coveredUntil)
  const id = crypto.randomUUID()
  const statement = {
    id,
    covered_until: coveredUntil,
    chain_count: chains,
    event_count: events,
    heads_digest: digest,
    audit_seq: audit?.seq ?? null,
    audit_hash: audit?.hash ?? null,
  }
  const signature = await signStatement(deps, CHECKPOINT_TYP, statement)
  await insertCheckpoint(deps.db, { ...statement, signature, created_at: now })
  return true
}

export interface LedgerReport {
  ok: boolean
  chains: number
  events: number
  checkpoints: number
  problems: string[]
}

/** Walks every chain and every checkpoint; reports the first broken link of each chain. */
export async function verifyLedger(deps: Deps, pageSize = 1000): Promise<LedgerReport> {
  const problems: string[] = []
  let chains = 0
  let events = 0
  let current = { contactId: '', seq: 0, hash: GENESIS_HASH, broken: false }
  for (let after = { contactId: '', seq: 0 }; ;) {
    const page = await eventsPage(deps.db, after, pageSize)
    for (const e of page) {
      events++
      if (e.contact_id !== current.contactId) {
        chains++
        current = { contactId: e.contact_id, seq: 0, hash: GENESIS_HASH, broken: false }
      }
      if (current.broken) continue
      const where = `contact ${e.contact_id}, event ${e.seq}`
      if (e.seq !== current.seq + 1)
        problems.push(`${where}: expected event ${current.seq + 1} (an event is missing)`)
      else if (e.prev_hash !== current.hash)
        problems.push(`${where}: does not link to the previous event`)
      else if ((await eventHash(e)) !== e.hash)
        problems.push(`${where}: its content does not match its hash (altered)`)
      else {
        current.seq = e.seq
        current.hash = e.hash
        continue
      }
      current.broken = true
    }
    const last = page.at(-1)
    if (!last || page.length < pageSize) break
    after = { contactId: last.contact_id, seq: last.seq }
  }

  const checkpoints = await listCheckpoints(deps.db)
  for (const cp of checkpoints) {
    const signed = (await verifyStatement(deps, cp.signature, CHECKPOINT_TYP)) as Record<
      string,
      unknown
    > | null
    const label = `checkpoint of ${new Date(cp.covered_until).toISOString()}`
    if (
      !signed ||
      signed.heads_digest !== cp.heads_digest ||
      signed.chain_count !== cp.chain_count ||
      signed.event_count !== cp.event_count ||
      signed.covered_until !== cp.covered_until ||
      (signed.audit_seq ?? null) !== cp.audit_seq ||
      (signed.audit_hash ?? null) !== cp.audit_hash
    ) {
      problems.push(`${label}: its signature does not verify (the checkpoint was altered)`)
      continue
    }
    const now = await headsDigest(deps, cp.covered_until)
    if (now.chains < cp.chain_count)
      problems.push(`${label}: ${cp.chain_count - now.chains} chain(s) missing`)
    else if (now.events !== cp.event_count)
      problems.push(
        `${label}: ${cp.event_count} events then, ${now.events} now (events removed or back-dated)`,
      )
    else if (now.digest !== cp.heads_digest)
      problems.push(`${label}: chain heads differ (a chain was cut, replaced or altered)`)
    if (cp.audit_seq !== null) {
      const row = await findAuditRow(deps.db, cp.audit_seq)
      if (!row)
        problems.push(`${label}: audit entry ${cp.audit_seq} is missing (the audit log was cut)`)
      else if (row.hash !== cp.audit_hash)
        problems.push(
          `${label}: audit entry ${cp.audit_seq} differs from the signed head (altered)`,
        )
    }
  }
  return { ok: problems.length === 0, chains, events, checkpoints: checkpoints.length, problems }
}
