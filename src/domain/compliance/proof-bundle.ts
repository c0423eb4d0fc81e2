/**
 * @module Proof for an authority (GDPR Art. 5(2), 7(1)): every consent event of a period or a purpose,
 * with the exact wording shown and the evidence, as one bundle of JSON lines cut at a signed ledger
 * checkpoint, closed by a manifest (pages, counts, hashes, the checkpoint) signed with the receipt
 * key (src/domain/consent/signing-keys.ts). Anyone verifies it offline with the JWKS
 * (bundle-verify.ts, `consent-gateway verify-bundle`, or jose alone: README "Compliance").
 *
 * The bundle is made page by page, each page from where the last one stopped in chain order (contact,
 * seq), so nothing larger than a page is ever held: on Node the pages stream one after another into
 * one download; on Workers a client fetches them one request each, within D1's and the CPU's limits,
 * and then the manifest, which ties them together by their hashes (kept in `proof_bundle_pages`).
 *
 * Format, one JSON object a line, each line ending in "\n":
 * - each page starts with `{"type":"page","bundle_id","n"}`; page 0 then has the `bundle` line (filter,
 *   checkpoint with its JWS) and a `notice` line per published wording; pages 1… have `event` lines:
 *   the ledger row as stored (so its hash can be recomputed) plus `evidence` opened, or
 *   `evidence_erased` when the person was erased (their key is gone: crypto-shredding);
 * - the last line is `{"type":"manifest","manifest":{…},"jws":"…"}`, the JWS (typ
 *   `proof-bundle+jwt`) over exactly that manifest; a page's `sha256` is over its bytes.
 */
import type { CompiledQuery } from 'kysely'
import { findCheckpoint, latestCheckpoint } from '../../db/repositories/checkpoints.ts'
import type { ConsentEventRow } from '../../db/repositories/ledger.ts'
import {
  bundleEventsPage,
  completeBundleQuery,
  contactDataKeys,
  findBundlePage,
  findProofBundle,
  insertBundlePageQuery,
  insertProofBundle,
  listBundlePages,
  listProofBundles,
  publishedNoticesUntil,
  type ProofBundlePageRow,
  type ProofBundleRow,
} from '../../db/repositories/proof-bundles.ts'
import { findActivePurpose } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { toHex, utf8, type Bytes } from '../../lib/encoding.ts'
import { maybeCheckpoint } from '../consent/checkpoints.ts'
import { signStatement } from '../consent/signing-keys.ts'
import { contactDataKey, openEvidence } from '../platform/contacts.ts'

export const BUNDLE_TYP = 'proof-bundle+jwt'
export const DEFAULT_PAGE_SIZE = 1000
export const MAX_PAGE_SIZE = 5000

export interface BundleRequest {
  purpose?: string | null
  /** Events that occurred from (inclusive) … to (exclusive), epoch milliseconds. */
  from?: number | null
  to?: number | null
  pageSize?: number
  /** Cut at a checkpoint signed now rather than at the last hourly one. */
  freshCheckpoint?: boolean
}

export interface BundleView {
  id: string
  filter: { purpose: string | null; occurred_from: string | null; occurred_to: string | null }
  checkpoint_id: string
  covered_until: string
  page_size: number
  pages_made: number
  complete: boolean
  created_at: string
  created_by: string
}

export type BundleResult<T> = { ok: true } & T
export type BundleError = {
  ok: false
  code:
    | 'not_found'
    | 'unknown_purpose'
    | 'invalid_period'
    | 'page_out_of_order'
    | 'bundle_changed'
    | 'incomplete'
  message: string
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

async function view(deps: Pick<Deps, 'db'>, b: ProofBundleRow): Promise<BundleView> {
  const [pages, checkpoint] = await Promise.all([
    listBundlePages(deps.db, b.id),
    checkpointOf(deps, b),
  ])
  return {
    id: b.id,
    filter: {
      purpose: b.purpose_key,
      occurred_from: iso(b.occurred_from),
      occurred_to: iso(b.occurred_to),
    },
    checkpoint_id: b.checkpoint_id,
    covered_until: iso(checkpoint.covered_until)!,
    page_size: b.page_size,
    pages_made: pages.length,
    complete: b.completed_at !== null,
    created_at: iso(b.created_at)!,
    created_by: b.created_by,
  }
}

async function checkpointOf(deps: Pick<Deps, 'db'>, b: ProofBundleRow) {
  return (await findCheckpoint(deps.db, b.checkpoint_id))!
}

/** Starts a bundle: its filter, and the checkpoint it is cut at (the last one, or a new one if none). */
export async function createProofBundle(
  deps: Deps,
  req: BundleRequest,
  actor: string,
): Promise<BundleResult<{ bundle: BundleView }> | BundleError> {
  const purpose = req.purpose ?? null
  if (purpose !== null && !(await findActivePurpose(deps.db, purpose)))
    return { ok: false, code: 'unknown_purpose', message: `No purpose "${purpose}"` }
  if (req.from != null && req.to != null && req.from >= req.to)
    return { ok: false, code: 'invalid_period', message: 'from must be before to' }
  let checkpoint = await latestCheckpoint(deps.db)
  if (!checkpoint || req.freshCheckpoint) {
    await maybeCheckpoint(deps, true)
    checkpoint = (await latestCheckpoint(deps.db))!
  }
  const now = deps.clock.now()
  const id = crypto.randomUUID()
  await insertProofBundle(deps.db, {
    id,
    purpose_key: purpose,
    occurred_from: req.from ?? null,
    occurred_to: req.to ?? null,
    checkpoint_id: checkpoint.id,
    page_size: Math.min(MAX_PAGE_SIZE, Math.max(1, req.pageSize ?? DEFAULT_PAGE_SIZE)),
    created_at: now,
    created_by: actor,
    completed_at: null,
  })
  return { ok: true, bundle: await view(deps, (await findProofBundle(deps.db, id))!) }
}

export async function getProofBundle(
  deps: Pick<Deps, 'db'>,
  id: string,
): Promise<BundleView | null> {
  const b = await findProofBundle(deps.db, id)
  return b ? view(deps, b) : null
}

export async function listBundles(deps: Pick<Deps, 'db'>): Promise<BundleView[]> {
  return Promise.all((await listProofBundles(deps.db)).map((b) => view(deps, b)))
}

interface PageCounts {
  by_purpose: Record<string, Record<string, number>>
  contacts: number
  first_contact: string | null
  notices: number
}

export interface BundlePage {
  n: number
  text: string
  lines: number
  events: number
  sha256: string
  /** No page follows. */
  last: boolean
}

const line = (o: object) => `${JSON.stringify(o)}\n`

async function hashHex(deps: Pick<Deps, 'sha256'>, text: string): Promise<string> {
  return toHex(await deps.sha256(utf8(text)))
}

/**
 * Makes page `n` (0, then each in turn: page n needs page n-1 made first, since it starts where that
 * one stopped). Made again, a page must come out the same; it does not when a person was erased in
 * between (their evidence became unreadable): `bundle_changed`, start a new bundle.
 */
export async function bundlePage(
  deps: Deps,
  bundleId: string,
  n: number,
): Promise<BundleResult<{ page: BundlePage }> | BundleError> {
  const bundle = await findProofBundle(deps.db, bundleId)
  if (!bundle) return { ok: false, code: 'not_found', message: 'No bundle with this id' }
  const checkpoint = await checkpointOf(deps, bundle)
  let text = line({ type: 'page', bundle_id: bundle.id, n })
  let lines = 1
  let events = 0
  let after = { contactId: '', seq: 0 }
  let done = false
  const counts: PageCounts = { by_purpose: {}, contacts: 0, first_contact: null, notices: 0 }

  if (n === 0) {
    text += line({
      type: 'bundle',
      bundle_id: bundle.id,
      issuer: deps.config.publicUrl,
      created_at: iso(bundle.created_at),
      filter: {
        purpose: bundle.purpose_key,
        occurred_from: bundle.occurred_from,
        occurred_to: bundle.occurred_to,
      },
      page_size: bundle.page_size,
      checkpoint: {
        id: checkpoint.id,
        covered_until: checkpoint.covered_until,
        chain_count: checkpoint.chain_count,
        event_count: checkpoint.event_count,
        heads_digest: checkpoint.heads_digest,
        jws: checkpoint.signature,
      },
    })
    lines++
    for (const notice of await publishedNoticesUntil(
      deps.db,
      bundle.purpose_key,
      checkpoint.covered_until,
    )) {
      text += line({
        type: 'notice',
        id: notice.id,
        purpose_key: notice.purpose_key,
        locale: notice.locale,
        version: notice.version,
        title: notice.title,
        body: notice.body,
        privacy_url: notice.privacy_url,
        content_hash: notice.content_hash,
        published_at: notice.published_at,
      })
      lines++
      counts.notices++
    }
  } else {
    const previous = await findBundlePage(deps.db, bundleId, n - 1)
    if (!previous)
      return {
        ok: false,
        code: 'page_out_of_order',
        message: `Page ${n - 1} must be fetched before page ${n}`,
      }
    if (previous.done === 1)
      return { ok: false, code: 'not_found', message: `The bundle ends at page ${n - 1}` }
    const rows = await bundleEventsPage(
      deps.db,
      {
        purposeKey: bundle.purpose_key,
        occurredFrom: bundle.occurred_from,
        occurredTo: bundle.occurred_to,
        recordedUntil: checkpoint.covered_until,
      },
      { contactId: previous.after_contact, seq: previous.after_seq },
      bundle.page_size,
    )
    done = rows.length < bundle.page_size
    const keys = await dataKeys(deps, rows)
    let lastContact: string | null = null
    for (const e of rows) {
      text += line(await eventLine(deps, e, keys.get(e.contact_id) ?? null))
      lines++
      events++
      const byAction = (counts.by_purpose[e.purpose_key] ??= {})
      byAction[e.action] = (byAction[e.action] ?? 0) + 1
      if (e.contact_id !== lastContact) counts.contacts++
      counts.first_contact ??= e.contact_id
      lastContact = e.contact_id
    }
    const last = rows.at(-1)
    after = last
      ? { contactId: last.contact_id, seq: last.seq }
      : { contactId: previous.after_contact, seq: previous.after_seq }
  }

  const sha256 = await hashHex(deps, text)
  const row: ProofBundlePageRow = {
    bundle_id: bundleId,
    n,
    lines,
    events,
    sha256,
    after_contact: after.contactId,
    after_seq: after.seq,
    done: done ? 1 : 0,
    counts: JSON.stringify(counts),
  }
  const queries: CompiledQuery[] = [insertBundlePageQuery(deps.db, row)]
  if (done) queries.push(completeBundleQuery(deps.db, bundleId, deps.clock.now()))
  await deps.atomic(queries)
  const kept = await findBundlePage(deps.db, bundleId, n)
  if (kept && kept.sha256 !== sha256)
    return {
      ok: false,
      code: 'bundle_changed',
      message: `Page ${n} no longer comes out as first made (a person was erased meanwhile): start a new bundle`,
    }
  return { ok: true, page: { n, text, lines, events, sha256, last: done } }
}

/** Each contact's data key, once per page; erased contacts have none (their evidence is shredded). */
async function dataKeys(deps: Pick<Deps, 'db' | 'keys'>, rows: ConsentEventRow[]) {
  const ids = [...new Set(rows.filter((r) => r.evidence_enc !== null).map((r) => r.contact_id))]
  const out = new Map<string, Bytes | null>()
  for (const c of await contactDataKeys(deps.db, ids)) out.set(c.id, await contactDataKey(deps, c))
  return out
}

async function eventLine(deps: Pick<Deps, 'keys'>, e: ConsentEventRow, key: Bytes | null) {
  return {
    type: 'event',
    id: e.id,
    contact_id: e.contact_id,
    seq: e.seq,
    purpose_key: e.purpose_key,
    action: e.action,
    notice_id: e.notice_id,
    method: e.method,
    source: e.source,
    evidence_enc: e.evidence_enc,
    actor: e.actor,
    occurred_at: e.occurred_at,
    recorded_at: e.recorded_at,
    prev_hash: e.prev_hash,
    hash: e.hash,
    evidence:
      e.evidence_enc && key
        ? await openEvidence(deps.keys, key, e.evidence_enc, `consent_events:${e.id}`)
        : null,
    evidence_erased: e.evidence_enc !== null && key === null,
  }
}

export interface BundleManifest {
  bundle_id: string
  issuer: string
  created_at: string
  signed_at: string
  filter: { purpose: string | null; occurred_from: number | null; occurred_to: number | null }
  checkpoint: { id: string; covered_until: number; heads_digest: string; event_count: number }
  pages: { n: number; lines: number; events: number; sha256: string }[]
  totals: {
    events: number
    contacts: number
    notices: number
    by_purpose: Record<string, Record<string, number>>
  }
}

/** The manifest line, signed now; only once the last page was made. */
export async function bundleManifest(
  deps: Deps,
  bundleId: string,
): Promise<BundleResult<{ manifest: BundleManifest; line: string }> | BundleError> {
  const bundle = await findProofBundle(deps.db, bundleId)
  if (!bundle) return { ok: false, code: 'not_found', message: 'No bundle with this id' }
  if (bundle.completed_at === null)
    return {
      ok: false,
      code: 'incomplete',
      message: 'Fetch every page first: the manifest ties their hashes together',
    }
  const [pages, checkpoint] = await Promise.all([
    listBundlePages(deps.db, bundleId),
    checkpointOf(deps, bundle),
  ])
  const totals: BundleManifest['totals'] = { events: 0, contacts: 0, notices: 0, by_purpose: {} }
  let lastContact: string | null = null
  for (const p of pages) {
    const c = JSON.parse(p.counts) as PageCounts
    totals.events += p.events
    totals.notices += c.notices
    // A person's chain may run across two pages: counted once.
    totals.contacts +=
      c.contacts - (c.first_contact !== null && c.first_contact === lastContact ? 1 : 0)
    if (p.events > 0) lastContact = p.after_contact
    for (const [purpose, actions] of Object.entries(c.by_purpose))
      for (const [action, count] of Object.entries(actions)) {
        const t = (totals.by_purpose[purpose] ??= {})
        t[action] = (t[action] ?? 0) + count
      }
  }
  const manifest: BundleManifest = {
    bundle_id: bundle.id,
    issuer: deps.config.publicUrl,
    created_at: iso(bundle.created_at)!,
    signed_at: iso(deps.clock.now())!,
    filter: {
      purpose: bundle.purpose_key,
      occurred_from: bundle.occurred_from,
      occurred_to: bundle.occurred_to,
    },
    checkpoint: {
      id: checkpoint.id,
      covered_until: checkpoint.covered_until,
      heads_digest: checkpoint.heads_digest,
      event_count: checkpoint.event_count,
    },
    pages: pages.map((p) => ({ n: p.n, lines: p.lines, events: p.events, sha256: p.sha256 })),
    totals,
  }
  const jws = await signStatement(deps, BUNDLE_TYP, manifest)
  return { ok: true, manifest, line: line({ type: 'manifest', manifest, jws }) }
}

/**
 * The whole bundle as text chunks, page after page then the manifest (Node's download streams it):
 * one page in memory at a time, whatever the number of events.
 */
export async function* bundleChunks(deps: Deps, bundleId: string): AsyncGenerator<string> {
  for (let n = 0; ; n++) {
    const made = await bundlePage(deps, bundleId, n)
    if (!made.ok) throw new BundleFailure(made)
    yield made.page.text
    if (n > 0 && made.page.last) break
  }
  const manifest = await bundleManifest(deps, bundleId)
  if (!manifest.ok) throw new BundleFailure(manifest)
  yield manifest.line
}

/**
 * The bundle as a byte stream for a download (the console's and the admin API's alike), pulled page
 * by page. A failure midway is logged and cuts the stream short: the file then lacks its manifest,
 * and any verification refuses it.
 */
export function bundleStream(deps: Deps, bundleId: string): ReadableStream<Uint8Array> {
  const chunks = bundleChunks(deps, bundleId)
  const encoder = new TextEncoder()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next()
        if (next.done) controller.close()
        else controller.enqueue(encoder.encode(next.value))
      } catch (err) {
        deps.logger.log('error', 'proof bundle download failed', {
          bundleId,
          error: err instanceof BundleFailure ? err.error.code : String(err),
        })
        controller.error(err)
      }
    },
    cancel: async () => void (await chunks.return(undefined)),
  })
}

export class BundleFailure extends Error {
  constructor(readonly error: BundleError) {
    super(error.message)
    this.name = 'BundleFailure'
  }
}
