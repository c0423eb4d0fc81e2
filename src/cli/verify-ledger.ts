/** @module `consent-gateway verify-ledger`: the tamper check of the consent ledger. */
import type { Deps } from '../deps.ts'
import { verifyLedger } from '../domain/consent/checkpoints.ts'

/**
 * Walks every consent chain and every signed checkpoint; prints a summary and each problem, and exits
 * 1 when the ledger was tampered with (a broken link, a missing chain, a forged checkpoint).
 */
export async function verifyLedgerCommand(deps: Deps): Promise<number> {
  const report = await verifyLedger(deps)
  const summary = `${report.chains} chains, ${report.events} events, ${report.checkpoints} signed checkpoints`
  if (report.ok) {
    console.log(`Ledger verified: ${summary}; every link and checkpoint holds.`)
    return 0
  }
  console.log(`LEDGER BROKEN: ${summary}; ${report.problems.length} problem(s):`)
  for (const problem of report.problems) console.log(`  - ${problem}`)
  return 1
}
