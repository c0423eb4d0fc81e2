/**
 * @module Everything the gateway holds about a contact (GDPR Art. 15), as one document: also the JSON
 * download (Art. 20; the CSV form is data-export-csv.ts). The consent history is the proof of consent
 * (proof.ts: events, evidence, exact wording) with its signed receipt.
 */
import type { ContactRow } from '../../db/repositories/contacts.ts'
import { findStates } from '../../db/repositories/ledger.ts'
import { findNoticesByIds } from '../../db/repositories/purposes.ts'
import type { Deps } from '../../deps.ts'
import { contactEmail } from '../platform/contacts.ts'
import { contactAttributes } from './correction.ts'
import { contactRequests, type DsrView } from './dsr.ts'
import { consentProof, proofNotice, type ProofEvent, type ProofNotice } from '../consent/proof.ts'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** The proof's wording without its privacy URL (the export names the controller's once). */
const wording = ({ privacy_url: _, ...w }: ProofNotice): NoticeWording => w

export interface NoticeWording {
  id: string
  version: number
  locale: string
  title: string
  text: string
  content_hash: string
  text_sha256: string
}

export interface PersonalData {
  format: 'consent-gateway/personal-data/v1'
  generated_at: string
  controller: { name: string; privacy_url: string | null }
  profile: {
    contact_id: string
    email: string | null
    locale: 'fr' | 'en'
    status: 'active' | 'erased'
    created_at: string
    updated_at: string
    objected_to_marketing_at: string | null
    attributes: Record<string, string>
  }
  consents: {
    purpose: string
    status: string
    granted_at: string | null
    changed_at: string
    notice: NoticeWording | null
  }[]
  history: HistoryEvent[]
  requests: DsrView[]
  /** Compact JWS (ES256) over the consent proof; verify with /.well-known/jwks.json. */
  consent_receipt: string | null
}

export type HistoryEvent = Pick<
  ProofEvent,
  'seq' | 'purpose' | 'action' | 'method' | 'source' | 'actor' | 'evidence' | 'evidence_erased'
> & { occurred_at: string; notice: NoticeWording | null }

export async function collectPersonalData(deps: Deps, contact: ContactRow): Promise<PersonalData> {
  const [email, attributes, states, requests, proof] = await Promise.all([
    contactEmail(deps, contact),
    contactAttributes(deps, contact),
    findStates(deps.db, contact.id),
    contactRequests(deps, contact.id),
    consentProof(deps, contact.id),
  ])
  const noticeIds = states.flatMap((s) => (s.notice_id ? [s.notice_id] : []))
  const notices = new Map((await findNoticesByIds(deps.db, noticeIds)).map((n) => [n.id, n]))
  return {
    format: 'consent-gateway/personal-data/v1',
    generated_at: new Date(deps.clock.now()).toISOString(),
    controller: { name: deps.config.org.name, privacy_url: deps.config.org.privacyUrl ?? null },
    profile: {
      contact_id: contact.id,
      email,
      locale: contact.locale,
      status: contact.status,
      created_at: iso(contact.created_at)!,
      updated_at: iso(contact.updated_at)!,
      objected_to_marketing_at: iso(contact.objected_at),
      attributes,
    },
    consents: await Promise.all(
      states.map(async (s) => {
        const n = s.notice_id ? notices.get(s.notice_id) : undefined
        return {
          purpose: s.purpose_key,
          status: s.status,
          granted_at: iso(s.granted_at),
          changed_at: iso(s.changed_at)!,
          notice: n ? wording(await proofNotice(deps, n)) : null,
        }
      }),
    ),
    history: (proof?.proof.history ?? []).map((e) => ({
      seq: e.seq,
      purpose: e.purpose,
      action: e.action,
      method: e.method,
      source: e.source,
      actor: e.actor,
      occurred_at: e.occurred_at!,
      notice: e.notice ? wording(e.notice) : null,
      evidence: e.evidence,
      evidence_erased: e.evidence_erased,
    })),
    requests,
    consent_receipt: proof?.receipt ?? null,
  }
}
