/** @module The relay's way out: raw messages to RELAY_UPSTREAM_URL over one pooled connection, DKIM optional. */
import { pooledSmtp } from '../mail.ts'

export interface DkimKey {
  domainName: string
  keySelector: string
  privateKey: string
}

/**
 * Signed header fields. RFC 8058 §4 wants both List-Unsubscribe headers covered by a valid signature;
 * nodemailer's default list has no List-Unsubscribe-Post.
 */
export const DKIM_HEADER_FIELDS = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'In-Reply-To',
  'References',
  'List-Id',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
].join(':')

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
      await mailer.sendMail({
        envelope,
        raw,
        ...(sign && dkim ? { dkim: { ...dkim, headerFieldNames: DKIM_HEADER_FIELDS } } : {}),
      })
    },
    close: () => mailer.close(),
  }
}
