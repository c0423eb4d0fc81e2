/**
 * @module The suppression list: keyed hashes (blind indexes) of addresses whose owner had them erased or
 * objected to all marketing, so they are never mailed or re-imported (GDPR Art. 17, 21(3)). Every blind
 * index the address has is listed: the stored one, and those under the current and previous keys
 * during a rotation, so a look-up under either key finds it.
 */
import type { CompiledQuery } from 'kysely'
import type { ContactRow } from '../../db/repositories/contacts.ts'
import { suppressQuery } from '../../db/repositories/suppressions.ts'
import type { Deps } from '../../deps.ts'
import { blindIndexWith } from '../../lib/email.ts'
import { contactEmail } from '../platform/contacts.ts'

export async function suppressionQueries(
  deps: Pick<Deps, 'db' | 'keys' | 'hmac'>,
  contact: ContactRow,
  reason: 'erased' | 'objected',
  now: number,
): Promise<CompiledQuery[]> {
  const entries = new Map<string, string>() // blind index -> key id
  if (contact.email_bidx && contact.bidx_kid) entries.set(contact.email_bidx, contact.bidx_kid)
  const email = await contactEmail(deps, contact)
  if (email)
    for (const set of [deps.keys.current, deps.keys.previous])
      if (set) entries.set(await blindIndexWith(deps.hmac, set, email), set.kid)
  return [...entries].map(([email_bidx, bidx_kid]) =>
    suppressQuery(deps.db, { email_bidx, bidx_kid, reason }, now),
  )
}
