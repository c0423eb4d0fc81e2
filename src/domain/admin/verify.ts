/**
 * @module One tamper check over everything hash-chained: the consent ledger with its signed checkpoints
 * (src/domain/consent/checkpoints.ts) and the admin audit chain (audit.ts). What `verify-ledger`, the
 * audit screen and the admin API run.
 */
import type { Deps } from '../../deps.ts'
import { verifyLedger, type LedgerReport } from '../consent/checkpoints.ts'
import { verifyAuditChain, type AuditReport } from './audit.ts'

export interface FullReport {
  ok: boolean
  ledger: LedgerReport
  audit: AuditReport
}

export async function verifyEverything(deps: Deps): Promise<FullReport> {
  const [ledger, audit] = [await verifyLedger(deps), await verifyAuditChain(deps)]
  return { ok: ledger.ok && audit.ok, ledger, audit }
}
