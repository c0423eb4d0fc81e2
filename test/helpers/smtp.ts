/** A real SMTP server on 127.0.0.1 (smtp-server) that parses what it receives (mailparser). */
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll } from 'vitest'
import { smtpMailTransport } from '../../src/runtime/node/mail.ts'

export interface ReceivedMail {
  envelope: { from: string; to: string[] }
  parsed: ParsedMail
  raw: string
}

export async function startSmtpServer() {
  const received: ReceivedMail[] = []
  /** While set, every message is answered with this SMTP code (451: try later) and not kept. */
  const control = { refuseWith: null as number | null, refused: 0 }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', async () => {
        if (control.refuseWith !== null) {
          control.refused++
          return callback(
            Object.assign(new Error('Try again later'), { responseCode: control.refuseWith }),
          )
        }
        const raw = Buffer.concat(chunks).toString('utf8')
        received.push({
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          parsed: await simpleParser(raw),
          raw,
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as { port: number }).port
  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    control,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The first https?:// link in a text part that goes to `path`. */
export function linkIn(text: string, path: string): string {
  const m = text.match(new RegExp(`https?://[^\\s]+${path}[^\\s]+`))
  if (!m) throw new Error(`no ${path} link in:\n${text}`)
  return m[0]
}

/**
 * For a test file: a real SMTP server and a pooled smtp transport to it, started before the tests and
 * closed after them (the transport first: its pooled connections would keep the server open).
 */
export function useSmtpServer() {
  const ctx = {} as {
    server: Awaited<ReturnType<typeof startSmtpServer>>
    transport: ReturnType<typeof smtpMailTransport>
  }
  beforeAll(async () => {
    ctx.server = await startSmtpServer()
    ctx.transport = smtpMailTransport(ctx.server.url)
  })
  afterAll(async () => {
    ctx.transport.close()
    await ctx.server.close()
  })
  return ctx
}
