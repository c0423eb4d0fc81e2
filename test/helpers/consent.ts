/** Consent states reached the real way: subscription, confirmation mail, confirmation. */
import type { Deps } from '../../src/deps.ts'
import { confirmOptin } from '../../src/domain/consent/optin.ts'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import type { MemoryMailTransport } from '../../src/mail/memory.ts'
import { API_CONSENT } from './deps.ts'

/** Subscribes `email` to double opt-in purposes and confirms through the link of the mail sent. */
export async function confirmedSubscription(
  t: { deps: Deps; mail: MemoryMailTransport },
  email: string,
  purposes = ['newsletter', 'email_marketing'],
): Promise<string> {
  const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes })
  if (!r.ok) throw new Error(r.message)
  await deliverOutbox(t.deps)
  const mail = t.mail.sent.at(-1)
  const token = /\/c\/([\w.-]+)/.exec(mail?.text ?? '')?.[1]
  if (!token) throw new Error('no confirmation link in the mail')
  const confirmed = await confirmOptin(t.deps, token, { ip: '192.0.2.9' })
  if (confirmed.status !== 'confirmed') throw new Error(`not confirmed: ${confirmed.status}`)
  return r.contactId
}
