/** @module Notice wording: the content hash that proves which exact text a contact was shown (Art. 7(1)). */
import { toHex, utf8 } from '../../lib/encoding.ts'

export interface NoticeContent {
  purposeKey: string
  locale: string
  version: number
  title: string
  body: string
  privacyUrl: string
}

/** SHA-256 (hex) over the wording and everything that identifies it; stored beside each notice. */
export async function noticeContentHash(n: NoticeContent): Promise<string> {
  const canonical = JSON.stringify([
    n.purposeKey,
    n.locale,
    n.version,
    n.title,
    n.body,
    n.privacyUrl,
  ])
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(canonical))))
}
