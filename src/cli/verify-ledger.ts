/** @module `consent-gateway verify-ledger`: the tamper check of the consent ledger. */
import type { Deps } from '../deps.ts'
import { verifyEverything, type FullReport } from '../domain/admin/verify.ts'
import { callAdminApi, type Remote } from './remote.ts'

/**
 * Walks every consent chain, every signed checkpoint and the admin audit chain; prints a summary and
 * each problem, and exits 1 when something was tampered with (a broken link, a missing chain, a forged
 * checkpoint, an edited audit entry).
 */
export async function verifyLedgerCommand(deps: Deps): Promise<number> {
  return printReport(await verifyEverything(deps))
}

export async function verifyLedgerRemote(remote: Remote): Promise<number> {
  return printReport(await callAdminApi<FullReport>(remote, 'POST', '/ledger/verify'))
}

function printReport({ ledger: report, audit }: FullReport): number {
  const summary =
    `${report.chains} chains, ${report.events} events, ${report.checkpoints} signed checkpoints, ` +
    `${audit.entries} audit entries`
  const problems = [...report.problems, ...audit.problems]
  if (problems.length === 0) {
    console.log(`Ledger verified: ${summary}; every link and checkpoint holds.`)
    return 0
  }
  console.log(`LEDGER BROKEN: ${summary}; ${problems.length} problem(s):`)
  for (const problem of problems) console.log(`  - ${problem}`)
  return 1
}
