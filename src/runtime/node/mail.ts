/**
 * @module Node mail transports over nodemailer: `log` writes each message as an .eml file (real MIME,
 * openable in any mail client), `smtp` sends through a pooled SMTP connection; `http` is shared code.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import nodemailer, { type SendMailOptions } from 'nodemailer'
import type { Config } from '../../config.ts'
import { systemClock, type Clock } from '../../lib/clock.ts'
import type { Logger } from '../../lib/log.ts'
import { httpMailTransport } from '../../mail/http.ts'
import { mailtoUri } from '../../mail/headers.ts'
import { mauticMailTransport } from '../../mail/mautic.ts'
import { createMauticClient } from '../../mautic/client.ts'
import type { MauticApi } from '../../mautic/types.ts'
import type { MailMessage, MailTransport } from '../../mail/message.ts'

/** A transport holding resources (an SMTP pool) that shutdown releases. */
export interface NodeMailTransport extends MailTransport {
  close(): void
}

export const DEFAULT_MAIL_LOG_DIR = './data/mail'

/** Our message in nodemailer's terms: multipart/alternative, headers as given, ONE List-Unsubscribe. */
export function toNodemailer(message: MailMessage): SendMailOptions {
  const { from, to, subject, html, text, listUnsubscribe: list } = message
  const headers: Record<string, string> = { ...message.headers }
  if (list?.oneClick) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click' // RFC 8058
  return {
    from,
    to,
    subject,
    html,
    text,
    headers,
    // Nested array: one header `<url>, <mailto:…>`; a flat array would give one header per URI.
    ...(list && {
      list: { unsubscribe: [[list.url, ...(list.mailto ? [mailtoUri(list.mailto)] : [])]] },
    }),
  }
}

/** MAIL_TRANSPORT=log: each message becomes `<dir>/<ISO time>-<random>.eml` (sorted by time). */
export function logMailTransport(
  opts: { dir?: string; clock?: Clock; logger?: Logger } = {},
): NodeMailTransport {
  const dir = opts.dir ?? DEFAULT_MAIL_LOG_DIR
  const clock = opts.clock ?? systemClock
  const mailer = nodemailer.createTransport({ streamTransport: true, buffer: true })
  return {
    name: 'log',
    async send(message) {
      const info = await mailer.sendMail(toNodemailer(message))
      const stamp = new Date(clock.now()).toISOString().replace(/[:.]/g, '-')
      const file = join(dir, `${stamp}-${randomBytes(4).toString('hex')}.eml`)
      // The file holds an address and link tokens: readable by this user only.
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await writeFile(file, info.message as Buffer, { flag: 'wx', mode: 0o600 })
      opts.logger?.log('info', 'mail written', { transport: 'log', file, subject: message.subject })
      return { messageId: info.messageId }
    },
    // The file names start with their time (`2026-11-29T09-00-00-000Z-…`): no need to open them.
    async purgeLog(before, { limit, dryRun }) {
      const names = await readdir(dir).catch(() => [] as string[])
      const cut = new Date(before).toISOString().replace(/[:.]/g, '-')
      const old = names.filter((n) => n.endsWith('.eml') && n.slice(0, cut.length) < cut)
      if (dryRun) return old.length
      const gone = old.slice(0, limit)
      for (const name of gone) await unlink(join(dir, name)).catch(() => {})
      return gone.length
    },
    close: () => mailer.close(),
  }
}

/**
 * A pooled nodemailer SMTP connection with timeouts far shorter than nodemailer's minutes-long
 * defaults: a hung server fails the send quickly, and the outbox (or the relay's sender) retries.
 */
export function pooledSmtp(url: string) {
  return nodemailer.createTransport({
    pool: true,
    url,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  })
}

/** MAIL_TRANSPORT=smtp: SMTP_URL (`smtp://user:pass@host:port`, or `smtps://` for implicit TLS), pooled. */
export function smtpMailTransport(url: string): NodeMailTransport {
  const mailer = pooledSmtp(url)
  return {
    name: 'smtp',
    async send(message) {
      const info = await mailer.sendMail(toNodemailer(message))
      return { messageId: info.messageId }
    },
    close: () => mailer.close(),
  }
}

/**
 * The Node transport MAIL_TRANSPORT names; `opts.logDir` is where `log` writes (./data/mail/), and
 * `opts.mautic` the client `mautic` sends through (one is made from config.mautic otherwise).
 */
export function nodeMailTransport(
  config: Config,
  opts: { logDir?: string; clock?: Clock; logger?: Logger; mautic?: MauticApi } = {},
): NodeMailTransport {
  const { transport, smtpUrl, httpUrl, httpToken } = config.mail
  switch (transport) {
    case 'log':
      return logMailTransport({ dir: opts.logDir, clock: opts.clock, logger: opts.logger })
    case 'smtp':
      if (!smtpUrl) throw new Error('SMTP_URL is required when MAIL_TRANSPORT=smtp')
      return smtpMailTransport(smtpUrl)
    case 'http':
      if (!httpUrl) throw new Error('MAIL_HTTP_URL is required when MAIL_TRANSPORT=http')
      return { ...httpMailTransport({ url: httpUrl, token: httpToken }), close: () => {} }
    case 'mautic': {
      if (!config.mautic) throw new Error('MAUTIC_URL is required when MAIL_TRANSPORT=mautic')
      const api = opts.mautic ?? createMauticClient(config.mautic)
      // Access links and address checks have no Mautic template: SMTP or HTTP carries them.
      const other = smtpUrl
        ? smtpMailTransport(smtpUrl)
        : httpUrl
          ? { ...httpMailTransport({ url: httpUrl, token: httpToken }), close: () => {} }
          : undefined
      const transport = mauticMailTransport(api, { confirm: config.mautic.confirmEmailId }, other)
      return { ...transport, close: () => other?.close() }
    }
  }
}
