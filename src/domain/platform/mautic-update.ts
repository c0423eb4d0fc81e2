/**
 * @module Art. 19: a correction of personal data is passed on to Mautic, where the person also is,
 * through the outbox (the `mautic.update` handler pushes the fields; it does nothing without Mautic).
 */
import type { CompiledQuery } from 'kysely'
import { mauticIdsOf } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'
import { enqueueQuery } from './outbox.ts'

/** Whether any Mautic contact is linked to this contact. */
export const hasMauticLinks = async (deps: Pick<Deps, 'db'>, contactId: string) =>
  (await mauticIdsOf(deps.db, contactId)).length > 0

/** The outbox row that pushes the contact's corrected fields to every linked Mautic contact. */
export const mauticUpdateQuery = (
  deps: Pick<Deps, 'db' | 'clock'>,
  contactId: string,
): CompiledQuery =>
  enqueueQuery(deps.db, deps.clock.now(), {
    kind: 'mautic.update',
    payload: { contactId },
    orderingKey: `mautic:${contactId}`,
  })
