/**
 * @module Compliance findings: what a check found wrong, for a DPO to see and close. Kinds so far: a
 * marketing send without valid consent, a consent claimed in Mautic without proof, a Mautic contact
 * with no recorded proof, a bounce.
 */
import type { FindingKind } from '../../db/database.ts'
import { listFindings as findingRows } from '../../db/repositories/findings.ts'
import type { Deps } from '../../deps.ts'

export type { FindingKind }

export const FINDING_KINDS: readonly FindingKind[] = [
  'send_without_consent',
  'unproven_consent_claim',
  'no_proof',
  'bounced',
]

/** Findings oldest first, their details parsed. */
export async function listFindings(
  deps: Pick<Deps, 'db'>,
  opts: { open?: boolean; kind?: FindingKind } = {},
) {
  const rows = await findingRows(deps.db, opts)
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as unknown }))
}
