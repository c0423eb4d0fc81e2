/**
 * @module `consent-gateway purge [--dry-run]`: a retention run now (README, "Retention"): contacts with
 * no activity of their own for RETENTION_INACTIVE_DAYS are erased (Mautic told through the outbox, the
 * recipients of the processors register too), then old webhook receipts, spent set-up links and logged
 * mails are deleted. `--dry-run` changes nothing: it lists on standard output, one per line and tab-
 * separated, each contact a run would erase (id, recorded, last activity, what it was), and says on
 * standard error what else would go. With `--url --key` it runs on that gateway through the admin API,
 * a few steps per call until done.
 */
import { options } from './args.ts'
import { print, withDeps } from './context.ts'
import { callAdminApi, type Remote } from './remote.ts'
import type { Deps } from '../deps.ts'
import {
  previewRetention,
  runRetention,
  runView,
  type RetentionPreview,
  type RetentionRunView,
} from '../domain/operations/retention.ts'
import { logMailTransport } from '../runtime/node/mail.ts'

export async function purge(args: string[], remote?: Remote): Promise<number> {
  const dryRun = args.includes('--dry-run')
  const rest = args.filter((a) => a !== '--dry-run')
  options(rest, []) // anything else is a usage error
  if (remote) return dryRun ? remotePreview(remote) : remoteRun(remote)
  return withDeps(async (deps) => {
    // MAIL_TRANSPORT=log keeps its mails as files here: the run deletes the old ones too.
    if (deps.config.mail.transport === 'log') deps.mail = logMailTransport()
    return dryRun ? localPreview(deps) : localRun(deps)
  })
}

const line = (c: RetentionPreview['candidates'][number]) =>
  [c.contact_id, c.created_at, c.last_activity_at, c.last_activity].join('\t')

async function printPreview(pages: AsyncGenerator<RetentionPreview>): Promise<number> {
  let total = 0
  let first: RetentionPreview | undefined
  for await (const page of pages) {
    first ??= page
    for (const c of page.candidates) await print(line(c))
    total += page.candidates.length
  }
  if (!first) return 0
  console.error(
    first.cutoff === null
      ? 'RETENTION_INACTIVE_DAYS=0: no contact is erased.'
      : `${total} contact(s) with no activity of their own since ${first.cutoff} (${first.inactive_days} days) would be erased.`,
  )
  console.error(
    `Also deleted: ${first.webhook_receipts} webhook receipt(s), ${first.setup_links} set-up link(s), ${first.mail_logs} logged mail(s). Nothing was changed (--dry-run).`,
  )
  return 0
}

function localPreview(deps: Deps): Promise<number> {
  return printPreview(
    (async function* () {
      let after: string | null = null
      do {
        const page = await previewRetention(deps, { after, limit: 1000, scanBudget: 100_000 })
        yield page
        after = page.next
      } while (after !== null)
    })(),
  )
}

function remotePreview(remote: Remote): Promise<number> {
  return printPreview(
    (async function* () {
      let after: string | null = null
      do {
        const query = new URLSearchParams({ limit: '1000', ...(after ? { after } : {}) })
        const page: RetentionPreview = await callAdminApi<RetentionPreview>(
          remote,
          'GET',
          `/retention/preview?${query}`,
        )
        yield page
        after = page.next
      } while (after !== null)
    })(),
  )
}

async function report(run: RetentionRunView): Promise<number> {
  const counts =
    `${run.contacts_erased} contact(s) erased of ${run.scanned} looked at; ` +
    `${run.webhook_receipts_deleted} webhook receipt(s), ${run.setup_links_deleted} set-up link(s), ` +
    `${run.mail_logs_deleted} logged mail(s) deleted`
  if (run.status === 'failed') {
    console.error(`Retention run ${run.id} failed: ${run.error}. So far: ${counts}.`)
    return 1
  }
  console.error(
    `Retention run ${run.id} done: ${counts}. Mautic and the recipients are told through the outbox (the running gateway delivers it).`,
  )
  await print(run.id)
  return 0
}

async function localRun(deps: Deps): Promise<number> {
  let shown = 0
  const run = await runRetention(deps, { trigger: 'cli', actor: 'cli' }, (r) => {
    if (r.scanned - shown >= 10_000) {
      shown = r.scanned
      console.error(`… ${r.scanned} contact(s) looked at, ${r.contacts_erased} erased`)
    }
  })
  return report(runView(run))
}

async function remoteRun(remote: Remote): Promise<number> {
  let run = await callAdminApi<RetentionRunView>(remote, 'POST', '/retention/runs')
  while (run.status === 'running') {
    console.error(`… ${run.scanned} contact(s) looked at, ${run.contacts_erased} erased`)
    run = await callAdminApi<RetentionRunView>(remote, 'POST', `/retention/runs/${run.id}/continue`)
  }
  return report(run)
}
