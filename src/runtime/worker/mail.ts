/** @module Picks the Workers mail transport from MAIL_TRANSPORT: `log` (the D1 mail_log table) or `http`
 * (`mautic` is built in src/worker.ts, next to the Mautic client). */
import type { Config } from '../../config.ts'
import { d1LogMailTransport, type D1LogMailDeps } from './mail-log.ts'
import { httpMailTransport } from '../../mail/http.ts'
import type { MailTransport } from '../../mail/message.ts'

export function workerMailTransport(config: Config, deps: D1LogMailDeps): MailTransport {
  const { transport, httpUrl, httpToken } = config.mail
  switch (transport) {
    case 'log':
      return d1LogMailTransport(deps)
    case 'http':
      if (!httpUrl) throw new Error('MAIL_HTTP_URL is required when MAIL_TRANSPORT=http')
      return httpMailTransport({ url: httpUrl, token: httpToken })
    case 'smtp':
      // nodemailer needs node:net and node:tls; on Workers mail leaves through an HTTP API instead.
      throw new Error(
        'MAIL_TRANSPORT=smtp is not available on Cloudflare Workers: set MAIL_TRANSPORT=http with MAIL_HTTP_URL (or log)',
      )
    case 'mautic':
      // Built in src/worker.ts, which holds the Mautic client.
      throw new Error('MAIL_TRANSPORT=mautic needs the Mautic client: see forEnv in src/worker.ts')
  }
}
