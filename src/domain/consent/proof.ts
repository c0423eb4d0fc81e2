/**
 * @module Proof of consent (GDPR Art. 7(1); EDPB 05/2020 §108): a contact's current state per purpose
 * and every event with its evidence and the exact wording shown, plus a signed receipt (compact JWS)
 * over that content that anyone can verify offline with /.well-known/jwks.json.
 */
import { findContactByBlindIndexes, findContactById } from '../../db/repositories/contacts.ts'
import { findEvents, findStates } from '../../db/repositories/ledger.ts'
import { findNoticesByIds, type NoticeRow } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexes, normalizeEmail } from '../../lib/email.ts'
import { toHex, utf8 } from '../../lib/encoding.ts'
import { contactDataKey, openEvidence } from '../platform/contacts.ts'
import { signReceipt } from './signing-keys.ts'

export interface ConsentProof {
  contact_id: string
  status: 'active' | 'erased'
  issued_at: string
  issuer: string
  state: Record<
    string,
    { status: string; notice_id: string | null; granted_at: string | null; changed_at: string }
  >
  history: ProofEvent[]
}

/**
 * The exact wording an event refers to (Art. 7(1)): what was shown, under which privacy policy.
 * `content_hash` is the SHA-256 (hex) of the UTF-8 JSON array [purpose, locale, version, title, text,
 * privacy URL] (src/domain/consent/notices.ts: it identifies the notice as published);
 * `text_sha256` is the SHA-256 (hex) of the text's UTF-8 bytes alone, so that anyone can check the
 * wording with `sha256sum` (README "Collecting and proving consent").
 */
export interface ProofNotice {
  id: string
  version: number
  locale: string
  title: string
  text: string
  privacy_url: string
  content_hash: string
  text_sha256: string
}

export interface ProofEvent {
  id: string
  seq: number
  purpose: string
  action: string
  method: string
  source: string
  actor: string
  occurred_at: string | null
  recorded_at: string | null
  notice: ProofNotice | null
  evidence: Record<string, unknown> | null
  evidence_erased: boolean
  prev_hash: string
  hash: string
}

export const proofNotice = async (
  deps: Pick<Deps, 'sha256'>,
  n: NoticeRow,
): Promise<ProofNotice> => ({
  id: n.id,
  version: n.version,
  locale: n.locale,
  title: n.title,
  text: n.body,
  privacy_url: n.privacy_url,
  content_hash: n.content_hash,
  text_sha256: toHex(await deps.sha256(utf8(n.body))),
})

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** Finds a contact by address (normalised, blind index) or by its gateway id. */
export async function findContactByRef(deps: Pick<Deps, 'db' | 'keys' | 'hmac'>, ref: string) {
  if (ref.includes('@')) {
    const email = normalizeEmail(ref)
    return email
      ? findContactByBlindIndexes(deps.db, await blindIndexes(deps.hmac, deps.keys, email))
      : undefined
  }
  return /^[0-9a-f-]{36}$/.test(ref) ? findContactById(deps.db, ref) : undefined
}

export async function consentProof(
  deps: Deps,
  ref: string,
): Promise<{ proof: ConsentProof; receipt: string } | null> {
  const contact = await findContactByRef(deps, ref)
  if (!contact) return null
  const [states, events] = await Promise.all([
    findStates(deps.db, contact.id),
    findEvents(deps.db, contact.id),
  ])
  const noticeIds = [...new Set(events.flatMap((e) => (e.notice_id ? [e.notice_id] : [])))]
  const notices = new Map((await findNoticesByIds(deps.db, noticeIds)).map((n) => [n.id, n]))
  const dataKey = await contactDataKey(deps, contact)

  const history: ProofEvent[] = []
  for (const e of events) {
    const n = e.notice_id ? notices.get(e.notice_id) : undefined
    history.push({
      id: e.id,
      seq: e.seq,
      purpose: e.purpose_key,
      action: e.action,
      method: e.method,
      source: e.source,
      actor: e.actor,
      occurred_at: iso(e.occurred_at),
      recorded_at: iso(e.recorded_at),
      notice: n ? await proofNotice(deps, n) : null,
      // After erasure the contact's key is gone: the evidence is unreadable, the event stays (accountability).
      evidence:
        e.evidence_enc && dataKey
          ? await openEvidence(deps.keys, dataKey, e.evidence_enc, `consent_events:${e.id}`)
          : null,
      evidence_erased: e.evidence_enc !== null && dataKey === null,
      prev_hash: e.prev_hash,
      hash: e.hash,
    })
  }
  const proof: ConsentProof = {
    contact_id: contact.id,
    status: contact.status,
    issued_at: new Date(deps.clock.now()).toISOString(),
    issuer: deps.config.publicUrl,
    state: Object.fromEntries(
      states.map((s) => [
        s.purpose_key,
        {
          status: s.status,
          notice_id: s.notice_id,
          granted_at: iso(s.granted_at),
          changed_at: iso(s.changed_at)!,
        },
      ]),
    ),
    history,
  }
  return { proof, receipt: await signReceipt(deps, proof) }
}
