/**
 * @module The offline check of a proof bundle (proof-bundle.ts gives the format), with nothing but the
 * gateway's JWKS (/.well-known/jwks.json): the manifest's signature (ES256, typ `proof-bundle+jwt`),
 * each page's SHA-256 against the manifest, the totals, every event's hash recomputed from its stored
 * fields (src/domain/consent/ledger.ts `eventHash`), the links between consecutive events of a chain,
 * every wording's content hash (src/domain/consent/notices.ts), that each event falls within the
 * bundle's filter and checkpoint, and the checkpoint's own signature. Fed line by line, it keeps one
 * page at a time: a bundle of any size is checked within memory. `consent-gateway verify-bundle` runs it.
 */
import { compactVerify, createLocalJWKSet, errors, type JSONWebKeySet } from 'jose'
import { fromUtf8, toHex, utf8 } from '../../lib/encoding.ts'
import { sha256 } from '../../lib/sha256.ts'
import { eventHash } from '../consent/ledger.ts'
import { noticeContentHash } from '../consent/notices.ts'
import { CHECKPOINT_TYP } from '../consent/signing-keys.ts'
import type { BundleManifest } from './proof-bundle.ts'

const BUNDLE_TYP = 'proof-bundle+jwt'
/** Enough to see what is wrong; the rest is counted. */
const MAX_PROBLEMS = 50

export interface BundleReport {
  ok: boolean
  bundle_id: string | null
  pages: number
  events: number
  notices: number
  contacts: number
  checkpoint: { id: string; covered_until: string } | null
  problems: string[]
}

type Obj = Record<string, unknown>

interface Header {
  bundle_id: string
  issuer: string
  filter: { purpose: string | null; occurred_from: number | null; occurred_to: number | null }
  checkpoint: {
    id: string
    covered_until: number
    chain_count: number
    event_count: number
    heads_digest: string
    jws: string
  }
}

export function bundleVerifier(jwks: JSONWebKeySet) {
  const keys = createLocalJWKSet(jwks)
  const problems: string[] = []
  let extraProblems = 0
  const problem = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p)
    else extraProblems++
  }

  let lineNo = 0
  let bundleId: string | null = null
  let header: Header | null = null
  let manifestLine: Obj | null = null
  const notices = new Set<string>()
  const pages: { n: number; lines: number; events: number; sha256: string }[] = []
  let page: { n: number; text: string; lines: number; events: number } | null = null
  let events = 0
  let contacts = 0
  const byPurpose: Record<string, Record<string, number>> = {}
  let previous: { contact_id: string; seq: number; hash: string } | null = null

  const closePage = () => {
    if (!page) return
    pages.push({
      n: page.n,
      lines: page.lines,
      events: page.events,
      sha256: toHex(sha256(utf8(page.text))),
    })
    page = null
  }

  async function onEvent(e: Obj) {
    const where = `event ${String(e.contact_id)}#${String(e.seq)}`
    events++
    if (page) page.events++
    const row = {
      id: String(e.id),
      contact_id: String(e.contact_id),
      seq: Number(e.seq),
      purpose_key: String(e.purpose_key),
      action: e.action as never,
      notice_id: (e.notice_id ?? null) as string | null,
      method: String(e.method),
      source: String(e.source),
      evidence_enc: (e.evidence_enc ?? null) as string | null,
      actor: String(e.actor),
      occurred_at: Number(e.occurred_at),
      recorded_at: Number(e.recorded_at),
      prev_hash: String(e.prev_hash),
    }
    if ((await eventHash(row, sha256)) !== e.hash)
      problem(`${where}: its content does not match its hash (altered)`)
    if (previous && previous.contact_id === row.contact_id) {
      if (row.seq <= previous.seq) problem(`${where}: out of chain order`)
      else if (row.seq === previous.seq + 1 && row.prev_hash !== previous.hash)
        problem(`${where}: does not link to the previous event`)
    } else contacts++
    previous = { contact_id: row.contact_id, seq: row.seq, hash: String(e.hash) }
    if (row.notice_id !== null && !notices.has(row.notice_id))
      problem(`${where}: the wording ${row.notice_id} it refers to is not in the bundle`)
    if (e.evidence_erased === true && e.evidence !== null)
      problem(`${where}: evidence shown although marked erased`)
    if (header) {
      const f = header.filter
      if (f.purpose !== null && row.purpose_key !== f.purpose)
        problem(`${where}: purpose ${row.purpose_key} is outside the bundle's filter`)
      if (
        (f.occurred_from !== null && row.occurred_at < f.occurred_from) ||
        (f.occurred_to !== null && row.occurred_at >= f.occurred_to)
      )
        problem(`${where}: occurred outside the bundle's period`)
      if (row.recorded_at > header.checkpoint.covered_until)
        problem(`${where}: recorded after the checkpoint the bundle is cut at`)
    }
    const actions = (byPurpose[row.purpose_key] ??= {})
    actions[String(e.action)] = (actions[String(e.action)] ?? 0) + 1
  }

  async function onNotice(n: Obj) {
    const hash = await noticeContentHash({
      purposeKey: String(n.purpose_key),
      locale: String(n.locale),
      version: Number(n.version),
      title: String(n.title),
      body: String(n.body),
      privacyUrl: String(n.privacy_url),
    })
    if (hash !== n.content_hash)
      problem(`wording ${String(n.id)}: its text does not match its hash`)
    notices.add(String(n.id))
  }

  return {
    /** One line of the bundle, without its line break. */
    async line(text: string): Promise<void> {
      lineNo++
      if (text === '') return
      if (manifestLine) {
        problem(`line ${lineNo}: content after the manifest`)
        return
      }
      let o: Obj
      try {
        o = JSON.parse(text) as Obj
      } catch {
        problem(`line ${lineNo}: not JSON`)
        return
      }
      if (o.type === 'manifest') {
        closePage()
        manifestLine = o
        return
      }
      if (o.type === 'page') {
        closePage()
        const n = Number(o.n)
        if (n !== pages.length)
          problem(`line ${lineNo}: page ${n} where page ${pages.length} was expected`)
        if (bundleId === null) bundleId = String(o.bundle_id)
        else if (o.bundle_id !== bundleId) problem(`line ${lineNo}: a page of another bundle`)
        page = { n, text: '', lines: 0, events: 0 }
      }
      if (!page) {
        problem(`line ${lineNo}: outside any page`)
        return
      }
      page.text += `${text}\n`
      page.lines++
      if (o.type === 'bundle') {
        if (header || page.n !== 0) problem(`line ${lineNo}: a second bundle header`)
        else header = o as unknown as Header
      } else if (o.type === 'notice') await onNotice(o)
      else if (o.type === 'event') await onEvent(o)
      else if (o.type !== 'page') problem(`line ${lineNo}: unknown line type ${String(o.type)}`)
    },

    /** Checks the signatures and the totals; call once every line was given. */
    async finish(): Promise<BundleReport> {
      closePage()
      if (!header) problem('no bundle header (page 0)')
      let manifest: BundleManifest | null = null
      if (!manifestLine) problem('no manifest: the bundle is cut short')
      else {
        const payload = await verified(String(manifestLine.jws), BUNDLE_TYP)
        if (payload === null) problem('the manifest signature does not verify with these keys')
        else if (payload !== JSON.stringify(manifestLine.manifest))
          problem('the manifest differs from what was signed')
        else manifest = JSON.parse(payload) as BundleManifest
      }
      if (manifest) {
        if (manifest.bundle_id !== bundleId) problem('the manifest is of another bundle')
        if (manifest.pages.length !== pages.length)
          problem(`${pages.length} pages, the manifest lists ${manifest.pages.length}`)
        for (const [i, signed] of manifest.pages.entries()) {
          const got = pages[i]
          if (!got) break
          if (
            got.sha256 !== signed.sha256 ||
            got.lines !== signed.lines ||
            got.events !== signed.events
          )
            problem(
              `page ${signed.n}: its content differs from the signed manifest (altered, added or removed lines)`,
            )
        }
        if (manifest.totals.events !== events)
          problem(`${events} events, the manifest says ${manifest.totals.events}`)
        if (manifest.totals.contacts !== contacts)
          problem(`${contacts} people, the manifest says ${manifest.totals.contacts}`)
        if (manifest.totals.notices !== notices.size)
          problem(`${notices.size} wordings, the manifest says ${manifest.totals.notices}`)
        if (
          JSON.stringify(sortDeep(manifest.totals.by_purpose)) !==
          JSON.stringify(sortDeep(byPurpose))
        )
          problem('the counts per purpose and action differ from the manifest')
        if (header) {
          if (header.issuer !== manifest.issuer)
            problem('the header and the manifest name different issuers')
          if (JSON.stringify(header.filter) !== JSON.stringify(manifest.filter))
            problem('the header and the manifest name different filters')
          if (
            header.checkpoint.id !== manifest.checkpoint.id ||
            header.checkpoint.covered_until !== manifest.checkpoint.covered_until ||
            header.checkpoint.heads_digest !== manifest.checkpoint.heads_digest
          )
            problem('the header and the manifest name different checkpoints')
        }
      }
      if (header) {
        const cp = header.checkpoint
        const signed = await verified(cp.jws, CHECKPOINT_TYP)
        const s = signed === null ? null : (JSON.parse(signed) as Obj)
        if (
          !s ||
          s.id !== cp.id ||
          s.covered_until !== cp.covered_until ||
          s.heads_digest !== cp.heads_digest ||
          s.chain_count !== cp.chain_count ||
          s.event_count !== cp.event_count
        )
          problem('the ledger checkpoint is not signed by these keys or was altered')
      }
      if (extraProblems > 0) problems.push(`… and ${extraProblems} more problem(s)`)
      return {
        ok: problems.length === 0,
        bundle_id: bundleId,
        pages: pages.length,
        events,
        notices: notices.size,
        contacts,
        checkpoint: header
          ? {
              id: header.checkpoint.id,
              covered_until: new Date(header.checkpoint.covered_until).toISOString(),
            }
          : null,
        problems,
      }
    },
  }

  /** The payload of a compact JWS signed by one of the keys with this `typ`, or null. */
  async function verified(jws: string, typ: string): Promise<string | null> {
    try {
      const { payload, protectedHeader } = await compactVerify(jws, keys, { algorithms: ['ES256'] })
      return protectedHeader.typ === typ ? fromUtf8(payload) : null
    } catch (err) {
      if (err instanceof errors.JOSEError || err instanceof TypeError) return null
      throw err
    }
  }
}

function sortDeep(o: Record<string, Record<string, number>>) {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [
        k,
        Object.fromEntries(
          Object.keys(o[k]!)
            .sort()
            .map((a) => [a, o[k]![a]]),
        ),
      ]),
  )
}
