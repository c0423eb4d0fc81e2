/**
 * @module `consent-gateway compliance …`: the data inventory's import, the risk report, the record of
 * processing activities (GDPR Art. 30) and proof bundles for an authority, from the command line.
 * Results go to standard output (or the --out file); what is said to the person goes to standard error.
 */
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { options, UsageError } from './args.ts'
import type { CliIo, WithDeps } from './mautic.ts'
import type { Deps } from '../deps.ts'
import { refreshInventory, type ImportReport } from '../domain/compliance/inventory.ts'
import {
  bundleChunks,
  createProofBundle,
  getProofBundle,
} from '../domain/compliance/proof-bundle.ts'
import { recordCsv, recordOfProcessing } from '../domain/compliance/record.ts'
import { listRisks, refreshRisks } from '../domain/compliance/risks.ts'
import { isLocale } from '../lib/i18n.ts'

export const COMPLIANCE_USAGE = `Usage: consent-gateway compliance <command> [options]

  import-fields                      bring Mautic's contact fields (when MAUTIC_URL is set) and the
                                     gateway's own into the data inventory, each with a suggested
                                     category that a person confirms (admin API)
  risks [--status open|closed|all]   run the risk scan and print the findings, high severity first
  record [--format json|csv] [--locale fr|en]
                                     the record of processing activities (GDPR Art. 30)
  export-bundle --out FILE [--purpose KEY] [--from ISO] [--to ISO] [--page-size N] [--fresh]
                                     every consent event of a period and/or a purpose, with wording
                                     and evidence, signed (check it with consent-gateway verify-bundle)`

const processIo: CliIo = {
  out: (text) => new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve())),
  err: (text) => console.error(text),
}

const date = (name: string, value: string | undefined) => {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be a date (ISO 8601), got "${value}"`)
  return ms
}

const imported = (r: ImportReport) =>
  `${r.added} added, ${r.updated} updated, ${r.removed} removed, ${r.pending} awaiting confirmation`

export async function runCompliance(
  args: string[],
  withDeps: WithDeps,
  io: CliIo = processIo,
): Promise<number> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'import-fields':
      options(rest, [])
      return withDeps(async (deps) => {
        const report = await refreshInventory(deps)
        await io.out(`gateway fields: ${imported(report.gateway)}`)
        await io.out(
          report.mautic ? `Mautic fields: ${imported(report.mautic)}` : 'Mautic: not configured',
        )
        return 0
      })
    case 'risks': {
      const { status = 'open' } = options(rest, ['status'])
      if (status !== 'open' && status !== 'closed' && status !== 'all')
        throw new UsageError('--status must be open, closed or all')
      return withDeps(async (deps) => {
        await refreshRisks(deps)
        const findings = await listRisks(deps, { status })
        for (const f of findings)
          await io.out(
            `${f.severity.padEnd(6)} ${f.kind.padEnd(26)} ${f.status.padEnd(6)} ${f.opened_at} ${JSON.stringify(f.details)}`,
          )
        io.err(`${findings.length} finding(s)`)
        return 0
      })
    }
    case 'record': {
      const { format = 'json', locale = 'fr' } = options(rest, ['format', 'locale'])
      if (format !== 'json' && format !== 'csv')
        throw new UsageError('--format must be json or csv')
      if (!isLocale(locale)) throw new UsageError('--locale must be fr or en')
      return withDeps(async (deps) => {
        const record = await recordOfProcessing(deps, locale)
        await io.out(format === 'csv' ? recordCsv(record) : JSON.stringify(record, null, 2))
        return 0
      })
    }
    case 'export-bundle': {
      const o = options(rest, ['out', 'purpose', 'from', 'to', 'page-size', 'fresh'])
      if (!o.out) throw new UsageError('export-bundle needs --out FILE')
      const pageSize = o['page-size'] === undefined ? undefined : Number(o['page-size'])
      if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0))
        throw new UsageError('--page-size must be a positive whole number')
      const request = {
        purpose: o.purpose,
        from: date('from', o.from),
        to: date('to', o.to),
        pageSize,
        freshCheckpoint: o.fresh !== undefined && o.fresh !== 'false',
      }
      return withDeps((deps) => exportBundle(deps, request, o.out!, io))
    }
    case 'help':
    case '--help':
    case '-h':
      io.err(COMPLIANCE_USAGE)
      return 0
    default:
      throw new UsageError(
        sub === undefined ? COMPLIANCE_USAGE : `Unknown command "compliance ${sub}".`,
      )
  }
}

/** Writes the bundle page by page to `out` (mode 0600: it holds personal data), then its manifest. */
export async function exportBundle(
  deps: Deps,
  request: Parameters<typeof createProofBundle>[1],
  out: string,
  io: CliIo,
): Promise<number> {
  const created = await createProofBundle(deps, request, 'cli')
  if (!created.ok) {
    io.err(created.message)
    return 1
  }
  const file = createWriteStream(out, { mode: 0o600 })
  try {
    for await (const chunk of bundleChunks(deps, created.bundle.id))
      if (!file.write(chunk)) await once(file, 'drain')
  } finally {
    file.end()
    await once(file, 'close')
  }
  const bundle = (await getProofBundle(deps, created.bundle.id))!
  io.err(
    `Proof bundle ${bundle.id}: ${bundle.pages_made} pages, cut at ${bundle.covered_until}, written to ${out}`,
  )
  await io.out(bundle.id)
  return 0
}
