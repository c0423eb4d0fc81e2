/** @module The relay's way out: raw messages to RELAY_UPSTREAM_URL over one pooled connection, DKIM optional. */
import { pooledSmtp } from '../mail.ts'
import { dkimSign, type DkimKey } from './dkim.ts'

export type { DkimKey }

export interface Upstream {
  /** Sends the bytes as they are, with this envelope; `sign` adds a DKIM signature when a key is set. */
  send(raw: Buffer, envelope: { from: string; to: string[] }, sign: boolean): Promise<void>
  close(): void
}

export function upstreamTransport(url: string, dkim?: DkimKey): Upstream {
  // Short timeouts: a hung upstream becomes a 451 quickly, and the sender retries.
  const mailer = pooledSmtp(url)
  return {
    async send(raw, envelope, sign) {
      await mailer.sendMail({ envelope, raw: sign && dkim ? dkimSign(raw, dkim) : raw })
    },
    close: () => mailer.close(),
  }
}
