/**
 * @module `consent-gateway mautic …`: connect (self-registration), sync (the initial import) and the
 * form and e-mail mappings. Standard output carries only a command's result (the webhook secret line,
 * the mappings); everything said to the person goes to standard error (as `api-key`: src/cli/context.ts).
 */
import { open, rm, type FileHandle } from 'node:fs/promises'
import { options, UsageError } from './args.ts'
import type { Deps } from '../deps.ts'
import { mirrorMode } from '../domain/platform/settings.ts'
import type { Locale } from '../lib/i18n.ts'
import {
  connectMautic,
  explainMauticError,
  NOT_CONFIGURED,
  type ConnectResult,
} from '../mautic/connect.ts'
import { listMappings, mapEmail, mapFormField, type MappingResult } from '../mautic/mappings.ts'
import {
  noProofCsv,
  syncMautic,
  SYNC_PAGE_SIZE,
  type NoProofRow,
  type SyncCounts,
} from '../mautic/sync.ts'
import { callAdminApi, RemoteError, type Remote } from './remote.ts'
import { MauticError } from '../mautic/types.ts'
import { WEBHOOK_TRIGGERS } from '../mautic/webhook-payload.ts'

export const MAUTIC_USAGE = `Usage: consent-gateway mautic <command> [options]

  connect [--webhook-url URL]        check the API access (MAUTIC_URL and credentials), create the
                                     fields and tags consent_<purpose> and consent_preferences_url, and
                                     the webhook (default URL: PUBLIC_URL/hooks/mautic) signed with
                                     MAUTIC_WEBHOOK_SECRET, or with a new secret stored in the
                                     gateway's database (accepted at once) and printed alone on
                                     standard output as MAUTIC_WEBHOOK_SECRET=…; an existing webhook
                                     is published again if Mautic unpublished it, and its secret
                                     recovered; creates nothing that exists already
  sync [--report FILE.csv]           import every Mautic contact: link it, import its Do-Not-Contact,
                                     report those with no proof of consent (never treated as
                                     consenting); --report writes them as CSV (mode 0600; a cell
                                     starting with = + - @ gets a leading ')
  map-form --form ID --field ALIAS --purpose KEY --version N --locale fr|en
                                     a ticked box ALIAS on Mautic form ID is consent to KEY, under
                                     the published notice version N in that locale
  map-email (--email ID | --category ID) --purpose KEY
                                     sends of that Mautic e-mail (or category) are checked against
                                     KEY (unmapped e-mails: email_marketing)
  mappings                           list the form and e-mail mappings`

export interface CliIo {
  /** Standard output: the result alone. */
  out(text: string): Promise<void>
  /** Standard error: everything said to the person. */
  err(text: string): void
}

export type WithDeps = (fn: (deps: Deps) => Promise<number>) => Promise<number>

const processIo: CliIo = {
  out: (text) => new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve())),
  err: (text) => console.error(text),
}

/** Runs `mautic <args>`; `withDeps` opens the gateway's database (src/cli.ts). Returns the exit code. */
export async function runMautic(
  args: string[],
  withDeps: WithDeps,
  io: CliIo = processIo,
  remote?: Remote,
): Promise<number> {
  const [sub, ...rest] = args
  try {
    switch (sub) {
      case 'connect': {
        const o = options(rest, ['webhook-url'])
        const webhookUrl = o['webhook-url'] === undefined ? undefined : httpUrl(o['webhook-url'])
        if (remote) {
          const r = await remoteResult<ConnectResult>(() =>
            callAdminApi(remote, 'POST', '/mautic/connect', { webhook_url: webhookUrl }),
          )
          return reportConnect(r, remote.url, false, io)
        }
        return await withDeps((deps) => connectCommand(deps, { webhookUrl }, io))
      }
      case 'sync': {
        const { report } = options(rest, ['report'])
        if (report === '') throw new UsageError('sync --report needs a file name.')
        if (remote) return await remoteSync(remote, report, io)
        return await withDeps((deps) => syncCommand(deps, { report }, io))
      }
      case 'map-form':
        return await mapFormCommand(rest, withDeps, io, remote)
      case 'map-email':
        return await mapEmailCommand(rest, withDeps, io, remote)
      case 'mappings':
        options(rest, [])
        if (remote) {
          const m = await callAdminApi<Awaited<ReturnType<typeof listMappings>>>(
            remote,
            'GET',
            '/mautic/mappings',
          )
          return printMappings(m, io)
        }
        return await withDeps((deps) => mappingsCommand(deps, io))
      case 'help':
      case '--help':
      case '-h':
        io.err(MAUTIC_USAGE)
        return 0
      default:
        throw new UsageError(
          sub === undefined
            ? 'mautic: connect, sync, map-form, map-email or mappings?'
            : `Unknown command "mautic ${sub}".`,
        )
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.err(`${err.message}\n\n${MAUTIC_USAGE}`)
    return 2
  }
}

function httpUrl(value: string): string {
  let url: URL | undefined
  try {
    url = new URL(value) // not URL.parse: Node 20 lacks it
  } catch {
    url = undefined
  }
  if (!url || !/^https?:$/.test(url.protocol))
    throw new UsageError(`--webhook-url must be an http(s) URL, got "${value}".`)
  return url.href
}

export async function connectCommand(
  deps: Deps,
  opts: { webhookUrl?: string },
  io: CliIo,
): Promise<number> {
  const r = await connectMautic(deps, opts)
  return reportConnect(
    r,
    deps.config.mautic?.url ?? '',
    deps.config.mauticWebhookSecret !== undefined,
    io,
  )
}

/** A Mautic failure reported by the admin API, as the local command reports it. */
async function remoteResult<T>(
  call: () => Promise<unknown>,
): Promise<T | { ok: false; error: string }> {
  try {
    return { ok: true, ...((await call()) as object) } as T
  } catch (err) {
    if (err instanceof RemoteError && err.code === 'mautic_failed')
      return { ok: false, error: err.message }
    throw err
  }
}

async function reportConnect(
  r: ConnectResult | { ok: false; error: string },
  mauticUrl: string,
  hadSecret: boolean,
  io: CliIo,
): Promise<number> {
  if (!r.ok) {
    io.err(r.error)
    return 1
  }
  const list = (xs: string[]) => (xs.length > 0 ? `created ${xs.join(', ')}` : 'all present')
  io.err(
    mauticUrl ? `Connected to Mautic at ${new URL(mauticUrl).origin}.` : 'Connected to Mautic.',
  )
  io.err(`Contact fields: ${list(r.fieldsCreated)}.`)
  for (const m of r.fieldTypeMismatches)
    io.err(
      `  Warning: the field ${m.alias} is of type ${m.type}, not ${m.expected}: the mirror may fail to write it.`,
    )
  io.err(`Tags: ${list(r.tagsCreated)}.`)
  if (/^https?:\/\/(localhost|127\.|\[::1\])/.test(r.webhookUrl))
    io.err(
      `  Warning: ${r.webhookUrl} is local: Mautic must be able to reach it (set PUBLIC_URL or --webhook-url).`,
    )
  const renamed = Object.entries(r.fieldAliases).filter(
    ([key, alias]) => alias !== `consent_${key}`,
  )
  if (renamed.length > 0)
    io.err(
      `  Mautic field aliases are at most 25 characters: ${renamed.map(([k, a]) => `${k} → ${a}`).join(', ')} ` +
        '(the tags keep the full consent_<purpose>).',
    )
  const w = r.webhook
  if (!w.created) {
    io.err(`A webhook to ${r.webhookUrl} exists in Mautic (id ${w.id}): none created.`)
    if (w.republished)
      io.err(
        '  Mautic had unpublished it (its deliveries kept failing, or one was answered 410): it is ' +
          'published again. Events Mautic recorded meanwhile were never sent: run `consent-gateway ' +
          'mautic sync` to catch up on Do-Not-Contact changes.',
      )
    if (r.missingTriggers.length > 0)
      io.err(`  Warning: it lacks the events ${r.missingTriggers.join(', ')}: add them in Mautic.`)
    if (w.secretSource === 'configured')
      io.err('  It signs its deliveries with MAUTIC_WEBHOOK_SECRET.')
    else if (w.secretSource === 'stored')
      io.err(
        "  It signs its deliveries with the secret an earlier run stored in the gateway's database " +
          '(accepted).',
      )
    else if (w.secretSource === 'recovered') {
      io.err(
        "  Its secret, read back from Mautic, is now stored in the gateway's database and accepted " +
          'at once. Keep a copy in the environment as well (the line on standard output).',
      )
      await io.out(`MAUTIC_WEBHOOK_SECRET=${w.secret}`)
    } else
      io.err(
        '  Mautic did not list its secret (the API user may lack the webhook permissions): set it in ' +
          'MAUTIC_WEBHOOK_SECRET, or delete that webhook in Mautic (Settings → Webhooks) and run this ' +
          'command again.',
      )
    return 0
  }
  io.err(
    `Webhook created in Mautic (id ${w.id}): ${r.webhookUrl}, events ${WEBHOOK_TRIGGERS.join(', ')}.`,
  )
  if (w.secretSource === 'configured') {
    io.err('It signs its deliveries with MAUTIC_WEBHOOK_SECRET.')
    return 0
  }
  io.err(
    "Its secret is stored in the gateway's database and accepted already: no delivery is refused, " +
      'and no restart is needed. Keep a copy in the environment as well (the line below).' +
      (hadSecret ? ' Both secrets are accepted.' : ''),
  )
  await io.out(`MAUTIC_WEBHOOK_SECRET=${w.secret}`)
  return 0
}

export async function syncCommand(
  deps: Deps,
  opts: { report?: string },
  io: CliIo,
): Promise<number> {
  if (!deps.config.mautic || !deps.mautic) {
    io.err(NOT_CONFIGURED)
    return 1
  }
  // Opened first, so that a wrong path fails before a long import; 0600: it will hold addresses.
  let file: FileHandle | undefined
  if (opts.report)
    try {
      file = await open(opts.report, 'w', 0o600)
      await file.chmod(0o600) // an existing file keeps its mode on open
    } catch (err) {
      io.err(`Cannot write the report ${opts.report}: ${(err as Error).message}`)
      return 1
    }
  try {
    const { counts, withoutProof } = await syncMautic(deps, {
      collect: file !== undefined,
      onPage: (done, total) => {
        if (total > SYNC_PAGE_SIZE) io.err(`  ${done} of ${total} Mautic contacts read`)
      },
    })
    if (file) await file.writeFile(noProofCsv(withoutProof))
    await file?.close()
    summary(io, counts, await mirrorMode(deps), opts.report)
    return 0
  } catch (err) {
    await file?.close()
    if (opts.report) await rm(opts.report, { force: true })
    if (!(err instanceof MauticError)) throw err
    io.err(
      `${explainMauticError(err)}\nThe sync stopped; run it again: what was imported stays, and nothing is duplicated.`,
    )
    return 1
  }
}

async function remoteSync(remote: Remote, report: string | undefined, io: CliIo): Promise<number> {
  let file: FileHandle | undefined
  if (report)
    try {
      file = await open(report, 'w', 0o600)
      await file.chmod(0o600)
    } catch (err) {
      io.err(`Cannot write the report ${report}: ${(err as Error).message}`)
      return 1
    }
  try {
    const r = await callAdminApi<{
      counts: SyncCounts
      without_proof?: NoProofRow[]
      mirror_mode: string
    }>(remote, 'POST', '/mautic/sync', { report: report !== undefined })
    if (file) await file.writeFile(noProofCsv(r.without_proof ?? []))
    await file?.close()
    summary(io, r.counts, r.mirror_mode, report)
    return 0
  } catch (err) {
    await file?.close()
    if (report) await rm(report, { force: true })
    if (err instanceof RemoteError && err.code === 'mautic_failed') {
      io.err(
        `${err.message}\nThe sync stopped; run it again: what was imported stays, and nothing is duplicated.`,
      )
      return 1
    }
    throw err
  }
}

function summary(io: CliIo, c: SyncCounts, mode: string, report: string | undefined) {
  io.err(
    [
      `Mautic sync: ${c.seen} contacts seen; ${c.withoutEmail} without a valid e-mail address and ` +
        `${c.suppressed} erased or objected were not imported.`,
      `  Gateway contacts: ${c.created} created, ${c.linked} linked to an existing one, ${c.alreadyLinked} already linked.`,
      `  With proof of e-mail consent: ${c.withProof}; without proof: ${c.withoutProof} ` +
        `(${c.findingsAdded} new no_proof findings).`,
      `  Do-Not-Contact entries imported: ${c.dncImported}.`,
    ].join('\n'),
  )
  if (report)
    io.err(
      `The ${c.withoutProof} contacts without proof are in ${report} (mode 0600: it holds e-mail ` +
        'addresses). Leave out the rows whose dnc is "unsubscribed": those people asked not to be mailed.',
    )
  if (mode === 'enforce')
    io.err(
      `MIRROR_MODE=enforce: ${c.mirrorsQueued} mirror updates queued; the running gateway writes ` +
        'the Do-Not-Contact entries, tags and fields to Mautic.',
    )
  else
    io.err(
      'MIRROR_MODE=observe: nothing was written to Mautic. Contacts without proof are never treated ' +
        'as consenting' +
        (report ? '.' : '; list them with --report FILE.csv for a re-permission campaign.'),
    )
}

async function mapFormCommand(
  args: string[],
  withDeps: WithDeps,
  io: CliIo,
  remote?: Remote,
): Promise<number> {
  const o = options(args, ['form', 'field', 'purpose', 'version', 'locale'])
  const { form, field, purpose, version, locale } = o
  if (!form || !field || !purpose || !version || !locale)
    throw new UsageError('map-form needs --form, --field, --purpose, --version and --locale.')
  if (!/^[1-9]\d*$/.test(version))
    throw new UsageError(`--version must be a notice version number, got "${version}".`)
  if (locale !== 'fr' && locale !== 'en')
    throw new UsageError(`--locale must be fr or en, got "${locale}".`)
  const lang: Locale = locale
  return withDeps(async (deps) => {
    const input = { formId: form, fieldAlias: field, purposeKey: purpose, locale: lang }
    const r = remote
      ? await remoteMapping(() =>
          callAdminApi(remote, 'POST', '/mautic/mappings/forms', {
            form_id: form,
            field,
            purpose,
            version: Number(version),
            locale: lang,
          }),
        )
      : await mapFormField(deps, { ...input, noticeVersion: Number(version) })
    if (!r.ok) {
      io.err(`Cannot map field "${field}" of form ${form}: ${r.error}.`)
      return 1
    }
    io.err(
      `Form ${form}, field "${field}" → ${purpose}, notice v${version} (${locale})` +
        `${r.replaced ? ', replacing the previous mapping' : ''}. A ticked box is captured as a ` +
        'consent request with the submission as evidence (double opt-in where the purpose asks for it).',
    )
    if (r.warning) io.err(`  Warning: ${r.warning}.`)
    return 0
  })
}

async function mapEmailCommand(
  args: string[],
  withDeps: WithDeps,
  io: CliIo,
  remote?: Remote,
): Promise<number> {
  const { email, category, purpose } = options(args, ['email', 'category', 'purpose'])
  if ((email === undefined) === (category === undefined) || !purpose)
    throw new UsageError('map-email needs either --email or --category, and --purpose.')
  const kind = email !== undefined ? 'email' : 'category'
  const ref = (email ?? category)!
  return withDeps(async (deps) => {
    const r = remote
      ? await remoteMapping(() =>
          callAdminApi(remote, 'POST', '/mautic/mappings/emails', { kind, ref, purpose }),
        )
      : await mapEmail(deps, { kind, ref, purposeKey: purpose })
    if (!r.ok) {
      io.err(`Cannot map Mautic ${kind === 'email' ? 'e-mail' : 'category'} ${ref}: ${r.error}.`)
      return 1
    }
    io.err(
      `Mautic ${kind === 'email' ? 'e-mail' : 'e-mail category'} ${ref} → ${purpose}` +
        `${r.replaced ? ', replacing the previous mapping' : ''}: its sends are checked against that purpose.`,
    )
    return 0
  })
}

async function remoteMapping(call: () => Promise<unknown>): Promise<MappingResult> {
  try {
    return { ok: true, replaced: false, ...((await call()) as object) }
  } catch (err) {
    if (err instanceof RemoteError && err.code === 'invalid_mapping')
      return { ok: false, error: err.message }
    throw err
  }
}

async function mappingsCommand(deps: Deps, io: CliIo): Promise<number> {
  return printMappings(await listMappings(deps), io)
}

async function printMappings(
  { forms, emails }: Awaited<ReturnType<typeof listMappings>>,
  io: CliIo,
): Promise<number> {
  if (forms.length === 0 && emails.length === 0) {
    io.err('No mappings yet: add them with `consent-gateway mautic map-form` and `map-email`.')
    return 0
  }
  const blocks: string[] = []
  if (forms.length > 0)
    blocks.push(
      table([
        ['FORM', 'FIELD', 'PURPOSE', 'NOTICE', 'LOCALE'],
        ...forms.map((f) => [
          f.formId,
          f.fieldAlias,
          f.purposeKey,
          `v${f.noticeVersion}`,
          f.locale,
        ]),
      ]),
    )
  if (emails.length > 0)
    blocks.push(
      table([['MAUTIC', 'ID', 'PURPOSE'], ...emails.map((e) => [e.kind, e.ref, e.purposeKey])]),
    )
  await io.out(blocks.join('\n\n'))
  io.err('Mautic e-mails with no mapping (by id or category) are checked against email_marketing.')
  return 0
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows
    .map((r) =>
      r
        .map((v, i) => v.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
}
