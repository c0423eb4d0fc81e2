/** The SMTP relay end to end on 127.0.0.1: a nodemailer sender → the relay → an upstream smtp-server. */
import nodemailer, { type SendMailOptions } from 'nodemailer'
import type { RawEnv } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { startRelay, type RelayOptions } from '../../src/runtime/node/relay/server.ts'
import { apiKey } from './api.ts'
import { testDeps } from './deps.ts'
import { startSmtpServer, type ReceivedMail } from './smtp.ts'

/** Consent for purposes without double opt-in, granted at once. */
export async function consentedContact(
  deps: Deps,
  email: string,
  purposes = ['push_notifications'],
) {
  const res = await subscribe(deps, {
    email,
    purposes,
    locale: 'fr',
    method: 'api',
    source: 'test',
    actor: 'api:test',
    evidence: { ip: '192.0.2.1' },
  })
  if (!res.ok) throw new Error(res.message)
  return res.contactId
}

/** A relay on port 0 in front of a fresh upstream, with keys for both logins. */
export async function startRelayRig(options: Partial<RelayOptions> = {}, env: RawEnv = {}) {
  const t = await testDeps({ ORG_NAME: 'ACME', PUBLIC_URL: 'https://gateway.test', ...env })
  const upstream = await startSmtpServer()
  const relay = await startRelay(t.deps, {
    port: 0,
    host: '127.0.0.1',
    upstreamUrl: upstream.url,
    ...options,
  })
  const relayKey = await apiKey(t.deps, ['relay'])
  const transactionalKey = await apiKey(t.deps, ['relay_transactional'])
  return {
    ...t,
    upstream,
    relay,
    relayKey,
    transactionalKey,
    /** Sends through the relay, logged in as `user`; rejects with nodemailer's SMTP error. */
    send: (user: string, pass: string, mail: SendMailOptions) =>
      sendVia(relay.port, user, pass, mail),
    close: async () => {
      await relay.close()
      await upstream.close()
      t.sqlite.close()
    },
  }
}

/** `user` '' sends without AUTH (as a mailbox provider delivering to the unsubscribe address does). */
export async function sendVia(port: number, user: string, pass: string, mail: SendMailOptions) {
  const sender = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    ...(user ? { auth: { user, pass } } : {}),
  })
  try {
    return await sender.sendMail(mail)
  } finally {
    sender.close()
  }
}

/** The error a send rejected with, as `{ code, response }`. */
export async function smtpRefusal(sending: Promise<unknown>) {
  return (await smtpRefusalAt(sending)).refusal
}

/** The error a send rejected with, and the command it answered (`RCPT TO`, `DATA`…). */
export async function smtpRefusalAt(sending: Promise<unknown>) {
  try {
    await sending
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; command?: string }
    return {
      refusal: { code: e.responseCode, response: e.response ?? '' },
      command: e.command ?? '',
    }
  }
  throw new Error('the relay accepted the message')
}

/** The relay's refusals in the daily counter `sends_refused` (place, purpose, reason), as rows. */
export function blockedSends(sqlite: { prepare(sql: string): { all(): unknown[] } }) {
  return sqlite
    .prepare(
      `SELECT dim1 AS source, dim2 AS purpose_key, dim3 AS reason, count FROM daily_counters
       WHERE name = 'sends_refused' AND dim1 LIKE 'relay%' ORDER BY dim1, dim3`,
    )
    .all()
}

/** A message exactly as a sender writes it (nodemailer's MIME), to compare bytes. */
export async function buildRaw(mail: SendMailOptions): Promise<Buffer> {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true })
  return (await composer.sendMail(mail)).message as Buffer
}

/** Header lines as they arrived (mailparser folds List-* headers into one object). */
export const headerLines = (mail: ReceivedMail) => mail.parsed.headerLines.map((h) => h.line)

export const linesNamed = (mail: ReceivedMail, name: string) =>
  headerLines(mail).filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))

/** A few bytes of every value, as a PDF attachment would carry them. */
export const binaryBytes = (n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 37) % 256))

/** The upstream's next message, once it has arrived (the relay answers after forwarding). */
export const lastReceived = (received: ReceivedMail[]) => {
  const mail = received.at(-1)
  if (!mail) throw new Error('the upstream received nothing')
  return mail
}

/**
 * Sends `data` through an SMTP server byte for byte, over a bare socket (nodemailer rewrites line
 * ends: a lone CR would not reach the relay as sent). AUTH PLAIN when `user` is given. Resolves with
 * the reply to the message, or to the first command refused.
 */
export async function sendRawSmtp(
  port: number,
  opts: { user?: string; pass?: string; from: string; to: string[]; data: Buffer },
): Promise<{ code: number; text: string }> {
  const { createConnection } = await import('node:net')
  const socket = createConnection({ host: '127.0.0.1', port })
  let buffered = ''
  const waiters: ((line: string) => void)[] = []
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1')
    for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
      const line = buffered.slice(0, i)
      buffered = buffered.slice(i + 2)
      // The last line of a reply has a space after the code.
      if (/^\d{3} /.test(line)) waiters.shift()?.(line)
    }
  })
  const reply = () => new Promise<string>((resolve) => waiters.push(resolve))
  const command = async (line: string) => {
    const next = reply()
    socket.write(`${line}\r\n`)
    return next
  }
  const answer = (line: string) => ({ code: Number(line.slice(0, 3)), text: line })
  try {
    await reply() // greeting
    await command('EHLO sender.test')
    if (opts.user) {
      const auth = Buffer.from(`\0${opts.user}\0${opts.pass ?? ''}`).toString('base64')
      const ok = await command(`AUTH PLAIN ${auth}`)
      if (!ok.startsWith('235')) return answer(ok)
    }
    const from = await command(`MAIL FROM:<${opts.from}>`)
    if (!from.startsWith('250')) return answer(from)
    for (const to of opts.to) {
      const rcpt = await command(`RCPT TO:<${to}>`)
      if (!rcpt.startsWith('250')) return answer(rcpt)
    }
    const go = await command('DATA')
    if (!go.startsWith('354')) return answer(go)
    // Dot-stuffing (RFC 5321 §4.5.2): a line that starts with "." gets another.
    const stuffed = opts.data.toString('latin1').replace(/(^|\r\n)\./g, '$1..')
    const end = stuffed.endsWith('\r\n') ? '.\r\n' : '\r\n.\r\n'
    const done = reply()
    socket.write(Buffer.from(stuffed + end, 'latin1'))
    return answer(await done)
  } finally {
    socket.end('QUIT\r\n')
  }
}
