/**
 * @module What the domain asks of Mautic, queued in the outbox in the same atomic unit as the change
 * that causes it, so it reaches Mautic even if the process dies right after the commit: a consent
 * change is mirrored (DNC, tags, fields), a correction of personal data is passed on (GDPR Art. 19).
 * The handlers (src/jobs/mautic-handlers.ts) do nothing without Mautic.
 */
import type { CompiledQuery } from 'kysely'
import { mauticIdsOf } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'
import { enqueueQuery } from './outbox.ts'

/** Whether any Mautic contact is linked to this contact. */
export const hasMauticLinks = async (deps: Pick<Deps, 'db'>, contactId: string) =>
  (await mauticIdsOf(deps.db, contactId)).length > 0

/** The outbox row that mirrors a consent change to Mautic, when the contact is linked there. */
export async function mirrorQueries(
  deps: Pick<Deps, 'db' | 'mautic'>,
  contactId: string,
  now: number,
): Promise<CompiledQuery[]> {
  if (!deps.mautic || !(await hasMauticLinks(deps, contactId))) return []
  return [
    enqueueQuery(deps.db, now, {
      kind: 'mautic.mirror',
      payload: { contactId },
      orderingKey: `mautic:${contactId}`,
    }),
  ]
}

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
