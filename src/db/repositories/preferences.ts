/**
 * @module What the preference page shows for a contact, in one prepared query: its status and locale,
 * and the state of each purpose it has a record for. The page is what every footer link opens.
 */
import { sql } from 'kysely'
import type { Query } from '../database.ts'
import { compiler, prepared } from '../prepared.ts'

interface Row {
  status: 'active' | 'erased'
  locale: string | null
  purpose_key: string | null
  state: 'pending' | 'granted' | 'withdrawn' | 'expired' | null
}

export interface PreferenceFacts {
  status: Row['status']
  locale: string | null
  /** purpose key → state */
  states: Map<string, NonNullable<Row['state']>>
}

const factsQuery = prepared(['id'], (p) => ({
  compile: () =>
    sql`SELECT c.status, c.locale, s.purpose_key, s.status AS state
      FROM contacts c LEFT JOIN consent_state s ON s.contact_id = c.id
      WHERE c.id = ${p.id}`.compile(compiler),
}))

export async function readPreferenceFacts(
  deps: { query: Query },
  contactId: string,
): Promise<PreferenceFacts | undefined> {
  const rows = await deps.query<Row>(factsQuery({ id: contactId }))
  const first = rows[0]
  if (!first) return undefined
  const states = new Map<string, NonNullable<Row['state']>>()
  for (const r of rows) if (r.purpose_key && r.state) states.set(r.purpose_key, r.state)
  return { status: first.status, locale: first.locale, states }
}
