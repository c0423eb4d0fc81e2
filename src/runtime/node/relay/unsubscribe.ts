/**
 * @module Mail to the `mailto:` of List-Unsubscribe (RFC 2369; UNSUBSCRIBE_MAILTO): the relay's listener
 * takes it without AUTH — a mailbox provider delivers it like any mail — but only for these addresses,
 * and withdraws the purpose its token names. Its content is never read or kept: the address is the request.
 */
import type { Deps } from '../../../deps.ts'
import { readMailtoToken } from '../../../domain/sending/mailto-tokens.ts'
import { loadPurposes } from '../../../domain/consent/purposes.ts'
import { withdraw } from '../../../domain/consent/withdrawal.ts'

export interface MailtoRequest {
  contactId: string
  purpose: string
}

/**
 * The withdrawal an address asks for; 'invalid' for our unsubscribe address with no token or one we
 * did not make (changed, cut); null when it is not our unsubscribe address at all.
 */
export async function mailtoRequest(
  deps: Deps,
  address: string,
): Promise<MailtoRequest | 'invalid' | null> {
  const configured = deps.config.mail.unsubscribeMailto
  if (!configured) return null
  const [local, domain] = configured.split('@') as [string, string]
  const m = /^([^@+]+)(?:\+([^@]*))?@(.+)$/.exec(address.trim().toLowerCase())
  if (!m || m[1] !== local || m[3] !== domain) return null
  if (!m[2]) return 'invalid'
  const purposes = await loadPurposes(deps.db, deps.clock.now())
  return (await readMailtoToken(deps, m[2], purposes.keys())) ?? 'invalid'
}

export async function applyMailtoRequests(
  deps: Deps,
  requests: MailtoRequest[],
  envelopeFrom: string,
): Promise<void> {
  for (const r of requests)
    await withdraw(deps, r.contactId, [r.purpose], {
      method: 'mailto',
      source: 'list-unsubscribe mailto',
      actor: 'contact',
      // Evidence sits under the contact's own key (erased with it).
      evidence: { envelope_from: envelopeFrom, received_at: deps.clock.now() },
    })
}
