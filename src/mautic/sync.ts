/**
 * @module The initial sync (`consent-gateway mautic sync`): every existing Mautic contact with an address
 * is linked to a gateway contact (created, encrypted, when new), its Do-Not-Contact state is imported,
 * and each one with no valid e-mail consent in the ledger is reported as a `no_proof` finding. Mautic
 * keeps no proof of consent (Art. 7(1)), so an existing base is never taken as consenting: those
 * contacts are listed for a re-permission campaign and, in MIRROR_MODE=enforce, blocked in Mautic by
 * the mirror. Safe to run again: links, blocks and open findings are not duplicated.
 */
import type { CompiledQuery } from 'kysely'
import { isSuppressed } from '../db/repositories/contacts.ts'
import {
  findMirror,
  linkedContactId,
  linkQuery,
  noteBlockQuery,
  unlinkQuery,
  upsertMirrorQuery,
} from '../db/repositories/mautic.ts'
import {
  insertFindingQuery,
  listFindings,
  resolveFindingsQuery,
} from '../db/repositories/findings.ts'
import type { MirrorTarget } from '../domain/platform/outbox-messages.ts'
import type { Deps } from '../deps.ts'
import { mirrorMode } from '../domain/platform/settings.ts'
import { prepareContact } from '../domain/platform/contacts.ts'
import { enqueueQuery } from '../domain/platform/outbox.ts'
import { blindIndexes, normalizeEmail } from '../lib/email.ts'
import type { Locale } from '../lib/i18n.ts'
import { mauticOrderingKey } from './intake.ts'
import { desiredFor, foreignBlock } from './mirror.ts'
import { isGatewayEntry } from './signals.ts'
import type { MauticContact } from './types.ts'

/** Mautic's batch limit (`api_batch_max_limit`): the largest page it serves. */
export const SYNC_PAGE_SIZE = 200

/**
 * The personal fields kept from Mautic (encrypted), as the webhook path keeps them; the rest stays in
 * Mautic. Gateway attribute name → Mautic alias: the data pages edit `first_name`, Mautic says `firstname`.
 */
export const MAUTIC_ALIASES: Readonly<Record<string, string>> = {
  first_name: 'firstname',
  last_name: 'lastname',
  company: 'company',
  phone: 'phone',
  mobile: 'mobile',
  country: 'country',
}

/** Mautic's fields as gateway attributes. */
export function mauticAttributes(fields: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, alias] of Object.entries(MAUTIC_ALIASES))
    if (fields[alias] !== null && fields[alias] !== undefined && fields[alias] !== '')
      out[name] = String(fields[alias])
  return out
}

/**
 * Gateway attributes as a Mautic PATCH body (Art. 16, 19): the mapped fields the gateway holds, and ""
 * for each of `editable` the person emptied (sent with `overwriteWithBlank`, since Mautic skips blank
 * values otherwise), so a value removed on the data page is removed in Mautic too. Fields the gateway
 * never held are left alone, and attributes Mautic has no field for stay in the gateway.
 */
export function mauticFields(
  attributes: Record<string, unknown>,
  editable: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [name, alias] of Object.entries(MAUTIC_ALIASES))
    if (attributes[name] != null && attributes[name] !== '') out[alias] = String(attributes[name])
    else if (editable.includes(name)) out[alias] = ''
  return { ...out, overwriteWithBlank: true }
}

export const mauticLocale = (fields: Record<string, unknown>): Locale =>
  String(fields.preferred_locale ?? '').startsWith('en') ? 'en' : 'fr'

/** The e-mail channel's Do-Not-Contact entry, in words (`consent_gateway`: the mirror's own block). */
export type DncState = 'none' | 'unsubscribed' | 'bounced' | 'manual' | 'consent_gateway'

export function dncState(c: Pick<MauticContact, 'doNotContact'>): DncState {
  const entry = c.doNotContact.find((d) => d.channel === 'email')
  if (!entry) return 'none'
  if (isGatewayEntry(entry)) return 'consent_gateway'
  return entry.reason === 1 ? 'unsubscribed' : entry.reason === 2 ? 'bounced' : 'manual'
}

export interface SyncCounts {
  seen: number
  /** No address, or one that is not an address: nothing to link or to ask. */
  withoutEmail: number
  /** Erased or objected (Art. 17, 21): not imported again, never reported for re-permission. */
  suppressed: number
  created: number
  /** Linked now to a gateway contact that existed already. */
  linked: number
  alreadyLinked: number
  withProof: number
  withoutProof: number
  /** Blocks the gateway did not write (own unsubscribes, staff DNCs, bounces), remembered. */
  dncImported: number
  findingsAdded: number
  /** `mautic.mirror` messages queued (MIRROR_MODE=enforce only). */
  mirrorsQueued: number
}

export interface NoProofRow {
  mauticId: string
  email: string
  dnc: DncState
}

export interface SyncOptions {
  /** Keep the addresses of the contacts without proof, for the report (otherwise none is kept). */
  collect?: boolean
  pageSize?: number
  onPage?: (done: number, total: number) => void
}

export async function syncMautic(
  deps: Deps,
  opts: SyncOptions = {},
): Promise<{ counts: SyncCounts; withoutProof: NoProofRow[] }> {
  const api = deps.mautic
  if (!api) throw new Error('syncMautic needs deps.mautic (MAUTIC_URL)')
  const run: Run = {
    counts: {
      seen: 0,
      withoutEmail: 0,
      suppressed: 0,
      created: 0,
      linked: 0,
      alreadyLinked: 0,
      withProof: 0,
      withoutProof: 0,
      dncImported: 0,
      findingsAdded: 0,
      mirrorsQueued: 0,
    },
    withoutProof: [],
    openFindings: new Set(
      (await listFindings(deps.db, { open: true, kind: 'no_proof' })).map((f) => f.mautic_id),
    ),
    mirrored: new Set(),
    collect: opts.collect ?? false,
  }
  const limit = opts.pageSize ?? SYNC_PAGE_SIZE
  // By offset, ordered by id: contacts created meanwhile come last and are still read.
  for (let start = 0; ;) {
    const page = await api.listContacts({ start, limit })
    for (const contact of page.contacts) await syncContact(deps, run, contact)
    start += page.contacts.length
    opts.onPage?.(start, page.total)
    if (page.contacts.length === 0 || start >= page.total) break
  }
  return { counts: run.counts, withoutProof: run.withoutProof }
}

interface Run {
  counts: SyncCounts
  withoutProof: NoProofRow[]
  /** Mautic ids with an open `no_proof` finding: one per contact, whatever the number of runs. */
  openFindings: Set<string | null>
  /** Gateway contacts whose mirror is queued in this run (one message mirrors all their Mautic ids). */
  mirrored: Set<string>
  collect: boolean
}

async function syncContact(deps: Deps, run: Run, c: MauticContact): Promise<void> {
  const { counts } = run
  counts.seen++
  const email = c.email ? normalizeEmail(c.email) : null
  if (!email) {
    counts.withoutEmail++
    return
  }
  // A webhook may create the same contact meanwhile (the unique blind index refuses the second
  // insert): prepared again, the contact is then found and linked.
  for (let attempt = 0; ; attempt++) {
    try {
      return await importContact(deps, run, c, email)
    } catch (err) {
      if (attempt > 0) throw err
    }
  }
}

async function importContact(deps: Deps, run: Run, c: MauticContact, email: string) {
  const { counts } = run
  const mauticId = String(c.id)
  const now = deps.clock.now()
  const enforce = (await mirrorMode(deps)) === 'enforce'
  const queries: CompiledQuery[] = []
  const blocks = await importDnc(deps, c, mauticId, now, queries)

  if (await isSuppressed(deps.db, await blindIndexes(deps.hmac, deps.keys, email))) {
    // As the webhook path does: never re-imported, and Mautic is told to leave the address alone.
    queries.push(unlinkQuery(deps.db, mauticId))
    if (enforce) queries.push(mirrorQuery(deps, now, { mauticId }))
    await deps.atomic(queries)
    counts.suppressed++
    counts.dncImported += blocks
    if (enforce) counts.mirrorsQueued++
    return
  }

  const wasLinkedTo = await linkedContactId(deps.db, mauticId)
  // Mautic's fields are taken only for a contact created now: the gateway's own data (a correction
  // made by the person, Art. 16) is never overwritten with an older copy.
  const attributes = mauticAttributes(c.fields)
  const ctx = await prepareContact(
    deps,
    email,
    mauticLocale(c.fields),
    Object.keys(attributes).length > 0 ? attributes : undefined,
  )
  const id = ctx.row.id
  queries.push(...ctx.insert, linkQuery(deps.db, mauticId, id, now))
  // Only the ledger proves consent: a new contact has none, whatever Mautic's fields or tags say.
  const proof = !ctx.isNew && !(await desiredFor(deps, id)).blockEmail
  const hasFinding = run.openFindings.has(mauticId)
  if (!proof && !hasFinding)
    queries.push(
      insertFindingQuery(deps.db, {
        kind: 'no_proof',
        contactId: id,
        mauticId,
        purposeKey: null,
        details: { source: 'mautic_sync', dnc: dncState(c) }, // no personal data in findings
        now,
      }),
    )
  if (proof && hasFinding) queries.push(resolveNoProofQuery(deps, mauticId, now))
  const queueMirror = enforce && !run.mirrored.has(id)
  if (queueMirror) queries.push(mirrorQuery(deps, now, { contactId: id }))
  await deps.atomic(queries)

  if (ctx.isNew) counts.created++
  else if (wasLinkedTo === id) counts.alreadyLinked++
  else counts.linked++
  counts.dncImported += blocks
  if (queueMirror) {
    run.mirrored.add(id)
    counts.mirrorsQueued++
  }
  if (!proof && !hasFinding) {
    run.openFindings.add(mauticId)
    counts.findingsAdded++
  }
  if (proof && hasFinding) run.openFindings.delete(mauticId)
  if (proof) counts.withProof++
  else {
    counts.withoutProof++
    if (run.collect) run.withoutProof.push({ mauticId, email, dnc: dncState(c) })
  }
}

/**
 * A block the gateway did not write is remembered from now on: only a grant confirmed after this sync
 * may lift it (the mirror's rule). The first time seen is kept, so a later sync does not move it.
 * A bounce is kept apart: the mirror never lifts one. Returns how many were new.
 */
async function importDnc(
  deps: Deps,
  c: MauticContact,
  mauticId: string,
  now: number,
  queries: CompiledQuery[],
): Promise<number> {
  const entry = c.doNotContact.find((d) => d.channel === 'email')
  if (!entry || isGatewayEntry(entry)) return 0
  const memory = await findMirror(deps.db, mauticId)
  if (foreignBlock(c)) {
    queries.push(noteBlockQuery(deps.db, mauticId, now))
    return memory?.own_unsubscribe_at == null ? 1 : 0
  }
  if (entry.reason === 2 && memory?.bounced_at == null) {
    queries.push(upsertMirrorQuery(deps.db, mauticId, { bounced_at: now }))
    return 1
  }
  return 0
}

const mirrorQuery = (deps: Deps, now: number, target: MirrorTarget) =>
  enqueueQuery(deps.db, now, {
    kind: 'mautic.mirror',
    payload: target,
    orderingKey: mauticOrderingKey(target.contactId ?? target.mauticId!),
  })

/** The contact has proof now (a re-permission campaign worked): its open finding is closed. */
const resolveNoProofQuery = (deps: Deps, mauticId: string, now: number) =>
  resolveFindingsQuery(deps.db, {
    kind: 'no_proof',
    mauticId,
    resolution: 'consent_recorded',
    now,
  })

/**
 * The contacts without proof as CSV (RFC 4180, CRLF), for a re-permission campaign. A cell a
 * spreadsheet would run as a formula (= + - @, tab, CR first: OWASP "CSV injection") gets a leading `'`.
 */
export function noProofCsv(rows: NoProofRow[]): string {
  const lines = [['mautic_id', 'email', 'dnc'], ...rows.map((r) => [r.mauticId, r.email, r.dnc])]
  return lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n') + '\r\n'
}

export function csvCell(value: string): string {
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  // `;` too: spreadsheets in French (and other) locales split on it.
  return /[",;\r\n]/.test(guarded) || guarded !== value
    ? `"${guarded.replaceAll('"', '""')}"`
    : guarded
}
