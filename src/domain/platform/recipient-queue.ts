/**
 * @module Passing corrections and erasures on to each recipient (GDPR Art. 19), queued in the same
 * atomic unit as the change itself, as src/domain/platform/mautic-queue.ts does for Mautic. Every
 * active processor of the register (docs/compliance-matrix.md, Art. 19 and 28) that takes part gets
 * one `recipient_notices` row: with a webhook, an outbox message delivers it, signed with the Standard
 * Webhooks scheme and retried (src/jobs/recipient-webhook.ts); without one, it is a task for staff.
 * Whom and what the notice is about (the address the recipient knows, the corrected values) is kept
 * encrypted on the row and emptied once passed on. An erasure supersedes the person's corrections not
 * yet passed on: they would only carry data about to be erased.
 */
import type { CompiledQuery } from 'kysely'
import { deleteUndeliveredQuery } from '../../db/repositories/outbox.ts'
import { processorsToNotify } from '../../db/repositories/processors.ts'
import {
  insertRecipientNoticeQuery,
  undeliveredRectifications,
  updateRecipientNoticeQuery,
} from '../../db/repositories/recipient-notices.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { decryptField, encryptField } from '../../lib/keys.ts'
import { enqueueQuery } from './outbox.ts'

export type RecipientNoticeKind = 'rectify' | 'erase'

/** What a recipient is told: the address it knows the person by, and for a correction the new values. */
export interface NoticeSubject {
  email: string | null
  /** Field name → corrected value ("" or null when the person emptied it). */
  changes?: Record<string, string | null>
}

export interface RecipientNoticeInput {
  contactId: string
  /** The data-subject request the change answers (dsr_requests.id). */
  requestId: string | null
  kind: RecipientNoticeKind
  subject: NoticeSubject
}

const subjectAad = (noticeId: string) => `recipient_notices.subject:${noticeId}`

/** One ordering key per recipient and person: a slow recipient holds up no other, a person's notices stay in order. */
export const recipientOrderingKey = (processorId: string, contactId: string) =>
  `recipient:${processorId}:${contactId}`

/** The queries that pass a change on to every recipient; none when the register has none. */
export async function recipientNoticeQueries(
  deps: Pick<Deps, 'db' | 'keys' | 'clock'>,
  input: RecipientNoticeInput,
): Promise<CompiledQuery[]> {
  const processors = await processorsToNotify(deps.db)
  const now = deps.clock.now()
  const queries: CompiledQuery[] = []
  if (input.kind === 'erase') {
    const superseded = await undeliveredRectifications(deps.db, input.contactId)
    for (const n of superseded)
      queries.push(
        updateRecipientNoticeQuery(deps.db, n.id, {
          status: 'superseded',
          subject_enc: null,
          updated_at: now,
          completed_at: now,
          note: 'superseded by an erasure',
        }),
      )
    if (processors.length > 0)
      queries.push(
        deleteUndeliveredQuery(
          deps.db,
          processors.map((p) => recipientOrderingKey(p.id, input.contactId)),
        ),
      )
  }
  for (const p of processors) {
    const id = uuidv7(now)
    const channel = p.webhook_url ? 'webhook' : 'task'
    queries.push(
      insertRecipientNoticeQuery(deps.db, {
        id,
        request_id: input.requestId,
        processor_id: p.id,
        contact_id: input.contactId,
        kind: input.kind,
        channel,
        status: channel === 'webhook' ? 'pending' : 'open',
        subject_enc: await encryptField(deps.keys, JSON.stringify(input.subject), subjectAad(id)),
        attempts: 0,
        last_error: null,
        created_at: now,
        updated_at: now,
        completed_at: null,
        completed_by: null,
        note: null,
      }),
    )
    if (channel === 'webhook')
      queries.push(
        enqueueQuery(deps.db, now, {
          kind: 'recipient.notify',
          payload: { noticeId: id },
          orderingKey: recipientOrderingKey(p.id, input.contactId),
        }),
      )
  }
  return queries
}

/** The subject of a notice, decrypted (to send it, or to show it to staff doing the task). */
export async function openNoticeSubject(
  deps: Pick<Deps, 'keys'>,
  notice: { id: string; subject_enc: string | null },
): Promise<NoticeSubject | null> {
  if (!notice.subject_enc) return null
  return JSON.parse(
    await decryptField(deps.keys, notice.subject_enc, subjectAad(notice.id)),
  ) as NoticeSubject
}
