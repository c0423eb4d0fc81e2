/**
 * @module Purposes with their current notices and the oldest notice version still accepted. Read on
 * every gate decision, so kept in memory for a few seconds per database (admin changes show up within
 * that time on every process).
 */
import type { DB } from '../../db/database.ts'
import {
  findFormPurposes,
  listPublishedNotices,
  listPurposes,
  type NoticeRow,
} from '../../db/repositories/purposes.ts'
import type { Locale } from '../../lib/i18n.ts'

export interface Purpose {
  key: string
  channel: 'email' | 'sms' | 'push' | 'web' | 'app' | 'data'
  legalBasis: 'consent' | 'legitimate_interest'
  doubleOptIn: boolean
  maxConsentAgeDays: number | null
  /** The latest published notice per locale: what forms show now. */
  current: Partial<Record<Locale, NoticeRow>>
  /** Consent under an older version than this (per locale) must be renewed: a re-consent version exists. */
  minAcceptedVersion: Partial<Record<Locale, number>>
  /**
   * The re-consent versions per locale, oldest first, each with the time from which the gate refuses
   * consents under an older version (its grace period's end; see gate-decision.ts). Without it,
   * `minAcceptedVersion` applies at once.
   */
  reconsent?: Partial<Record<Locale, ReconsentStep[]>>
}

export interface ReconsentStep {
  version: number
  /** Consents under an older version pass the gate until then (the grace period). */
  enforcedFrom: number
}

/** Channels whose messages the gate governs; data/web/app purposes are recorded, not sent on. */
export const SENDING_CHANNELS = new Set(['email', 'sms', 'push'])

const TTL_MS = 5_000
const cache = new WeakMap<
  DB,
  { at: number; purposes: Promise<Map<string, Purpose>>; ready?: Map<string, Purpose> }
>()

export function loadPurposes(db: DB, now = Date.now()): Promise<Map<string, Purpose>> {
  const hit = cache.get(db)
  if (hit && now - hit.at < TTL_MS) return hit.purposes
  const entry: {
    at: number
    purposes: Promise<Map<string, Purpose>>
    ready?: Map<string, Purpose>
  } = {
    at: now,
    purposes: readPurposes(db),
  }
  entry.purposes.then((m) => (entry.ready = m)).catch(() => cache.delete(db))
  cache.set(db, entry)
  return entry.purposes
}

/** The cached purposes without waiting, when they are fresh (the gate's hot path). */
export function cachedPurposes(db: DB, now: number): Map<string, Purpose> | undefined {
  const hit = cache.get(db)
  return hit && now - hit.at < TTL_MS ? hit.ready : undefined
}

/** Forget the cached purposes (after an admin change in this process). */
export function invalidatePurposes(db: DB): void {
  cache.delete(db)
}

async function readPurposes(db: DB): Promise<Map<string, Purpose>> {
  const [rows, notices] = await Promise.all([listPurposes(db), listPublishedNotices(db)])
  const map = new Map<string, Purpose>()
  for (const p of rows)
    map.set(p.key, {
      key: p.key,
      channel: p.channel,
      legalBasis: p.legal_basis,
      doubleOptIn: p.double_opt_in === 1,
      maxConsentAgeDays: p.max_consent_age_days,
      current: {},
      minAcceptedVersion: {},
      reconsent: {},
    })
  for (const n of notices) {
    const p = map.get(n.purpose_key)
    if (!p) continue
    p.current[n.locale] = n // ordered by version: the last one wins
    if (n.requires_reconsent === 1) {
      p.minAcceptedVersion[n.locale] = n.version
      ;(p.reconsent![n.locale] ??= []).push({
        version: n.version,
        enforcedFrom: n.reconsent_grace_until ?? 0,
      })
    }
  }
  return map
}

/** The purposes a hosted form offers (`/subscribe/{form}`), or undefined when there is no such form. */
export const formPurposes = (db: DB, formKey: string): Promise<string[] | undefined> =>
  findFormPurposes(db, formKey)
