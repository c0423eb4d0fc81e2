/**
 * @module What the relay does with a message once DATA is in: the transactional login passes it as
 * it is; marketing mail is gated for its purpose (the X-Consent-Purpose header when present, else the
 * login) and sent as one copy per allowed recipient, each with that contact's own links (tokens are
 * per contact and purpose). A recipient refused here is counted in the daily counter `sends_refused`
 * (src/domain/platform/counters.ts; the sender's 250 for the others says how many were refused, and
 * why). Log lines hold counts and reasons, never an address.
 */
import type { Deps } from '../../../deps.ts'
import { countRefusals } from '../../../domain/platform/counters.ts'
import { gateByEmail } from '../../../domain/sending/gate.ts'
import {
  preferencesUrl,
  purposeListId,
  unsubscribeMailto,
  unsubscribeUrl,
} from '../../../domain/sending/links.ts'
import { MimeRefusal, PURPOSE_HEADER, rewriteMessage, rootHeaders } from './rewrite.ts'
import type { Upstream } from './upstream.ts'

/** Who logged in: the purpose is the login name (`transactional` passes mail ungated). */
export interface RelayUser {
  purpose: string
  transactional: boolean
  keyId: string
}

export interface Envelope {
  from: string
  to: string[]
}

export interface RelayContext {
  deps: Deps
  upstream: Upstream
}

/** An SMTP reply: smtp-server sends `responseCode` and the message (enhanced code included). */
export const smtpError = (code: number, text: string) =>
  Object.assign(new Error(text), { responseCode: code })

export const isSmtpError = (err: unknown): err is Error & { responseCode: number } =>
  err instanceof Error && typeof (err as { responseCode?: unknown }).responseCode === 'number'

/** A purpose key as quoted back in a reply: short and printable (it comes from the sender). */
const quoted = (purpose: string) =>
  JSON.stringify(purpose.slice(0, 64).replace(/[^\x20-\x7e]/g, '?'))

/** Relays one message; resolves with the 250 text, rejects with an SMTP error to answer. */
export async function relayMessage(
  ctx: RelayContext,
  user: RelayUser,
  envelope: Envelope,
  raw: Buffer,
): Promise<string> {
  const { deps } = ctx
  if (user.transactional) {
    await forward(ctx, raw, envelope, false)
    deps.logger.log('info', 'relay: transactional mail passed ungated', {
      apiKeyId: user.keyId,
      recipients: envelope.to.length,
      bytes: raw.length,
    })
    return 'OK: passed (transactional)'
  }
  let headers
  try {
    headers = rootHeaders(raw)
  } catch {
    throw smtpError(554, '5.6.0 Malformed message header')
  }
  if (!headers.getFirst('to')) throw smtpError(554, '5.6.0 The message has no To: header')
  const purpose = headers.getFirst(PURPOSE_HEADER) || user.purpose
  // Each recipient decided and linked from one read (Mautic sends one recipient per message).
  const allowed: { to: string; contact: { id: string; locale: 'fr' | 'en' } }[] = []
  const refused: string[] = []
  for (const to of envelope.to) {
    const gate = await gateByEmail(deps, purpose, to)
    if (!gate.ok)
      throw smtpError(
        550,
        `5.7.1 unknown_purpose: ${quoted(purpose)} is not a purpose of this gateway`,
      )
    // Allowed implies a contact (the gate refuses unknown ones); without one there is nothing to link.
    if (gate.decision.allowed && gate.contact) allowed.push({ to, contact: gate.contact })
    else refused.push(gate.decision.reason ?? 'unknown_contact')
  }
  if (allowed.length === 0) {
    await countRefusals(deps, 'relay_data', purpose, refused)
    deps.logger.log('info', 'relay: message refused', { purpose, reasons: refused })
    throw smtpError(550, `5.7.1 ${refused[0]}`)
  }
  // One copy per recipient: each carries its own unsubscribe token. Mautic sends one per message.
  const copies = []
  for (const { to, contact } of allowed)
    copies.push({ to, message: await personalise(deps, raw, purpose, contact) })
  for (const { to, message } of copies)
    await forward(ctx, message, { from: envelope.from, to: [to] }, true)
  deps.logger.log('info', 'relay: message forwarded', { purpose, copies: allowed.length })
  if (refused.length === 0) return `OK: forwarded to ${allowed.length} recipient(s)`
  // The sender sees one answer for the message: the refusals are told here and counted.
  await countRefusals(deps, 'relay_data', purpose, refused)
  deps.logger.log('info', 'relay: recipients dropped after DATA', { purpose, reasons: refused })
  return (
    `OK: forwarded to ${allowed.length} of ${envelope.to.length} recipient(s); ` +
    `${refused.length} refused for ${quoted(purpose)} (${[...new Set(refused)].join(', ')})`
  )
}

async function personalise(
  deps: Deps,
  raw: Buffer,
  purpose: string,
  contact: { id: string; locale: 'fr' | 'en' },
) {
  const input = {
    locale: contact.locale,
    org: deps.config.org.name,
    unsubscribeUrl: unsubscribeUrl(deps, contact.id, purpose),
    mailto: await unsubscribeMailto(deps, contact.id, purpose),
    preferencesUrl: preferencesUrl(deps, contact.id),
    listId: purposeListId(deps.config, purpose),
  }
  let rewritten
  try {
    rewritten = rewriteMessage(raw, input)
  } catch (err) {
    if (!(err instanceof MimeRefusal)) throw err
    deps.logger.log('info', 'relay: malformed MIME refused', { reason: err.reason })
    throw smtpError(
      554,
      `5.6.0 Malformed MIME (${err.reason}): the relay changes no message it cannot read whole`,
    )
  }
  if (rewritten.untouched.length)
    deps.logger.log('info', 'relay: body forwarded without the links', {
      bodies: rewritten.untouched,
    })
  // Every marketing mail must carry the links (README, "Links in every e-mail"): no readable body, no send.
  if (rewritten.injected === 0)
    throw smtpError(
      554,
      rewritten.untouched.length
        ? '5.6.0 The text/html or text/plain body cannot be decoded exactly (transfer encoding or charset), so the unsubscribe links cannot be added'
        : '5.6.0 No text/html or text/plain part to carry the unsubscribe links',
    )
  return rewritten.message
}

/** Upstream trouble is temporary: 451 makes the sender keep the message and retry, nothing is lost. */
async function forward(ctx: RelayContext, raw: Buffer, envelope: Envelope, sign: boolean) {
  try {
    await ctx.upstream.send(raw, envelope, sign)
  } catch (err) {
    ctx.deps.logger.log('warn', 'relay: upstream refused or unreachable', { err })
    throw smtpError(451, '4.4.1 Upstream mail server unavailable, try again later')
  }
}
