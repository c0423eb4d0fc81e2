/**
 * @module What the preference center reads: a contact's standing and the state of each purpose it has
 * a record for, in one prepared query on the page every footer link opens; and the full states when
 * the page's form is sent.
 */
import { findStates, type ConsentStateRow } from '../../db/repositories/ledger.ts'
import { readPreferenceFacts, type PreferenceFacts } from '../../db/repositories/preferences.ts'
import type { Deps } from '../../deps.ts'

export type { PreferenceFacts }

export const preferenceFacts = (
  deps: Pick<Deps, 'query'>,
  contactId: string,
): Promise<PreferenceFacts | undefined> => readPreferenceFacts(deps, contactId)

/** A contact's consent state per purpose it has a record for. */
export const consentStates = (
  deps: Pick<Deps, 'db'>,
  contactId: string,
): Promise<ConsentStateRow[]> => findStates(deps.db, contactId)
