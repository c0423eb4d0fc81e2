/**
 * @module Contacts a person initiates that neither the consent ledger nor the data-subject requests
 * record: today, submitting a Mautic form mapped to no purpose (a request for documentation, say).
 * The retention rule counts them as activity (README, "Retention"; the CNIL counts any contact coming
 * from the prospect, though not the opening of an e-mail).
 */
import { noteActivityQuery } from '../../db/repositories/retention.ts'
import type { Deps } from '../../deps.ts'

export type ActivityKind = 'mautic_form'

/** Records the person's contact at `at` (the latest wins). */
export async function noteActivity(
  deps: Pick<Deps, 'db' | 'atomic'>,
  contactId: string,
  at: number,
  kind: ActivityKind,
): Promise<void> {
  await deps.atomic([noteActivityQuery(deps.db, contactId, at, kind)])
}
