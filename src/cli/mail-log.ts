/**
 * @module `consent-gateway mail-log`: the mails MAIL_TRANSPORT=log kept in D1 (Workers in
 * development: `wrangler dev` has no mail to send them to), opened and shown. Reads the JSON that
 * `wrangler d1 execute --json` prints on standard input (or --file), decrypts each row with keys
 * derived from APP_SECRET — from the environment, else from ./.dev.vars, as wrangler dev does — and
 * prints who it was for, its subject and its text part, links included (the confirmation link to
 * click, for instance).
 */
import { existsSync, readFileSync } from 'node:fs'
import { options, UsageError } from './args.ts'
import { deriveKeys, decryptField } from '../lib/keys.ts'
import { mailLogAad } from '../runtime/worker/mail.ts'
import { print } from './context.ts'

interface MailLogRow {
  id: string
  created_at: number
  recipient_enc: string
  subject: string
  message: string
}

/** The rows in what `wrangler d1 execute --json` prints (`[{results: […]}]`), or a plain list of rows. */
export function mailLogRows(json: string): MailLogRow[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(json)
  } catch {
    throw new UsageError(
      'mail-log reads the JSON of `npx wrangler d1 execute DB --local --json --command "SELECT * FROM mail_log"`: this is not JSON.',
    )
  }
  const list = Array.isArray(parsed) ? parsed : [parsed]
  const rows = list.flatMap((x) =>
    x && typeof x === 'object' && Array.isArray((x as { results?: unknown }).results)
      ? ((x as { results: unknown[] }).results as unknown[])
      : [x],
  )
  return rows.filter(
    (r): r is MailLogRow =>
      !!r && typeof r === 'object' && 'message' in r && 'recipient_enc' in r && 'id' in r,
  )
}

/** APP_SECRET from the environment, else from .dev.vars (KEY=VALUE lines, as wrangler reads it). */
function appSecret(): string {
  if (process.env.APP_SECRET) return process.env.APP_SECRET
  if (existsSync('.dev.vars'))
    for (const line of readFileSync('.dev.vars', 'utf8').split('\n')) {
      const m = /^\s*APP_SECRET\s*=\s*"?([^"\n]*)"?\s*$/.exec(line)
      if (m?.[1]) return m[1]
    }
  throw new UsageError(
    'mail-log needs APP_SECRET (in the environment, or in ./.dev.vars) to open the mails.',
  )
}

export async function mailLog(args: string[], stdin: () => Promise<string>): Promise<number> {
  const { file } = options(args, ['file'])
  const rows = mailLogRows(file ? readFileSync(file, 'utf8') : await stdin())
  if (rows.length === 0) {
    console.error('No mail in this mail_log output.')
    return 0
  }
  const secret = appSecret()
  const keys = await deriveKeys(secret, process.env.APP_SECRET_PREVIOUS || undefined)
  const blocks: string[] = []
  for (const row of rows.sort((a, b) => a.created_at - b.created_at)) {
    try {
      const to = await decryptField(keys, row.recipient_enc, mailLogAad(row.id, 'recipient_enc'))
      const m = JSON.parse(
        await decryptField(keys, row.message, mailLogAad(row.id, 'message')),
      ) as {
        subject?: string
        text?: string
      }
      blocks.push(
        [
          `Date:    ${new Date(row.created_at).toISOString()}`,
          `To:      ${to}`,
          `Subject: ${m.subject ?? row.subject}`,
          '',
          (m.text ?? '').trimEnd(),
        ].join('\n'),
      )
    } catch {
      blocks.push(`(mail ${row.id}: cannot be opened with this APP_SECRET)`)
    }
  }
  await print(blocks.join(`\n\n${'-'.repeat(72)}\n\n`))
  return 0
}

/** All of standard input, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
