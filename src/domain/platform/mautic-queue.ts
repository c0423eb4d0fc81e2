/**
 * @module A consent change of a contact linked to Mautic is mirrored there (DNC, tags, fields) through
 * the outbox, in the same atomic unit as the change: a withdrawal reaches Mautic even if the process
 * dies right after the commit.
 */
import type { CompiledQuery } from 'kysely'
import { mauticIdsOf } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'
import { enqueueQuery } from './outbox.ts'

export async function mirrorQueries(
  deps: Pick<Deps, 'db' | 'mautic'>,
  contactId: string,
  now: number,
): Promise<CompiledQuery[]> {
  if (!deps.mautic || (await mauticIdsOf(deps.db, contactId)).length === 0) return []
  return [
    enqueueQuery(deps.db, now, {
      kind: 'mautic.mirror',
      payload: { contactId },
      orderingKey: `mautic:${contactId}`,
    }),
  ]
}
