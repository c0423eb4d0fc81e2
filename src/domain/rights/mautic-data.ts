/**
 * @module What Mautic holds about a contact, for the data page (GDPR Art. 15(1): all the personal data
 * processed, wherever it sits): fields, tags, segments and recent activity of every linked Mautic
 * contact. Read live with a short timeout; when Mautic is slow or down the page says so rather than
 * waiting or failing, and the person can come back.
 */
import { mauticIdsOf } from '../../db/repositories/mautic.ts'
import type { Deps } from '../../deps.ts'

export const MAUTIC_TIMEOUT_MS = 2_000
const ACTIVITY_LIMIT = 20

export interface MauticRecord {
  id: number
  fields: { name: string; value: string }[]
  tags: string[]
  segments: string[]
  activity: { event: string; label: string; timestamp: string }[]
}

export type MauticHoldings =
  | { status: 'not_connected' }
  | { status: 'unavailable' }
  | { status: 'ok'; records: MauticRecord[] }

/** Fields with a value, as text (Mautic returns numbers, booleans and nulls alike). */
function fieldList(fields: Record<string, unknown>): { name: string; value: string }[] {
  return Object.entries(fields).flatMap(([name, v]) =>
    (typeof v === 'string' && v.trim() !== '') || typeof v === 'number' || typeof v === 'boolean'
      ? [{ name, value: String(v) }]
      : [],
  )
}

async function readRecords(deps: Deps, ids: number[]): Promise<MauticRecord[]> {
  const api = deps.mautic!
  const records = await Promise.all(
    ids.map(async (id) => {
      const [contact, segments, activity] = await Promise.all([
        api.getContact(id),
        api.contactSegments(id),
        api.contactActivity(id, ACTIVITY_LIMIT),
      ])
      if (!contact) return null // deleted in Mautic meanwhile: nothing held there
      return {
        id: contact.id,
        fields: fieldList(contact.fields),
        tags: contact.tags,
        segments: segments.map((s) => s.name),
        activity: activity.slice(0, ACTIVITY_LIMIT),
      }
    }),
  )
  return records.filter((r): r is MauticRecord => r !== null)
}

/** Everything or nothing: a partial picture would read as complete. */
export async function mauticHoldings(
  deps: Deps,
  contactId: string,
  timeoutMs = MAUTIC_TIMEOUT_MS,
): Promise<MauticHoldings> {
  if (!deps.mautic) return { status: 'not_connected' }
  const ids = (await mauticIdsOf(deps.db, contactId))
    .map(Number)
    .filter((n) => Number.isSafeInteger(n) && n > 0)
  if (ids.length === 0) return { status: 'ok', records: [] }
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Mautic did not answer in time')), timeoutMs)
  })
  try {
    return { status: 'ok', records: await Promise.race([readRecords(deps, ids), timeout]) }
  } catch (err) {
    deps.logger.log('warn', 'Mautic data unavailable for the data page', { err })
    return { status: 'unavailable' }
  } finally {
    clearTimeout(timer)
  }
}
