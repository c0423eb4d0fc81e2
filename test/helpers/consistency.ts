/**
 * @module The invariants a contact's ledger and states must keep whatever happened at once (the
 * reliability tests, on Node and on D1): the chain has no gap, every state row is what its purpose's
 * last event implies, nothing is granted or asked after an erasure, and an erased contact holds no
 * consent. Returns the problems found (none: an empty list).
 */
export interface LedgerRows {
  events: { id: string; seq: number; purpose_key: string; action: string }[]
  states: { purpose_key: string; status: string; last_event_id: string }[]
  contactStatus: string
}

const STATUS_AFTER: Record<string, string> = {
  requested: 'pending',
  confirmed: 'granted',
  granted: 'granted',
  withdrawn: 'withdrawn',
  expired: 'expired',
  erased: 'withdrawn',
}

export function ledgerProblems({ events, states, contactStatus }: LedgerRows): string[] {
  const problems: string[] = []
  const sorted = [...events].sort((a, b) => a.seq - b.seq)
  sorted.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`event ${e.id} at position ${e.seq}, expected ${i + 1}`)
  })
  const last = new Map<string, LedgerRows['events'][number]>()
  for (const e of sorted) last.set(e.purpose_key, e)
  if (states.length !== last.size)
    problems.push(`${states.length} state rows for ${last.size} purposes in the ledger`)
  for (const s of states) {
    const e = last.get(s.purpose_key)
    if (!e) problems.push(`state of ${s.purpose_key} without any event`)
    else if (s.status !== STATUS_AFTER[e.action] || s.last_event_id !== e.id)
      problems.push(
        `${s.purpose_key} is ${s.status} (event ${s.last_event_id}) but its last event ${e.id} is ${e.action}`,
      )
  }
  const erased = sorted.find((e) => e.action === 'erased')
  if (erased)
    for (const e of sorted)
      if (e.seq > erased.seq && ['requested', 'confirmed', 'granted'].includes(e.action))
        problems.push(`${e.action} of ${e.purpose_key} after the erasure`)
  if (contactStatus === 'erased')
    for (const s of states)
      if (s.status !== 'withdrawn')
        problems.push(`erased contact still ${s.status} for ${s.purpose_key}`)
  return problems
}

/** The rows `ledgerProblems` reads, by one SQL helper that runs on better-sqlite3 or D1. */
export const LEDGER_ROWS_SQL = {
  events:
    'SELECT id, seq, purpose_key, action FROM consent_events WHERE contact_id = ? ORDER BY seq',
  states: 'SELECT purpose_key, status, last_event_id FROM consent_state WHERE contact_id = ?',
  contact: 'SELECT status FROM contacts WHERE id = ?',
}
