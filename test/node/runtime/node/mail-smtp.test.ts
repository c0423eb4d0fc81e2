// The smtp transport against a real SMTP server on 127.0.0.1, the message read back with mailparser.
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../src/config.ts'
import type { MailMessage } from '../../../../src/mail/message.ts'
import { nodeMailTransport, smtpMailTransport } from '../../../../src/runtime/node/mail.ts'

interface Received {
  from: string
  to: string[]
  user?: string
  raw: string
}

const received: Received[] = []
let server: SMTPServer
let port: number

beforeAll(async () => {
  server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth: (auth, _session, cb) => cb(null, { user: auth.username }),
    onData(stream, session, cb) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const envelope = session.envelope
        received.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString('utf8'),
        })
        cb()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.server.address() as { port: number }).port
})

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const message: MailMessage = {
  from: 'ACME <no-reply@acme.test>',
  to: 'jeanne@example.test',
  subject: 'Confirmez votre inscription – ACME ✓',
  html: '<p>Bonjour <b>Jeanne</b></p>',
  text: 'Bonjour Jeanne\nhttps://gateway.test/c/tok?a=1&b=2',
  headers: { 'X-Campaign-Id': 'welcome-1' },
  listUnsubscribe: {
    url: 'https://gateway.test/u/tok123',
    mailto: 'unsubscribe@acme.test',
    oneClick: true,
  },
}

async function sendAndParse(msg: MailMessage): Promise<{ mail: ParsedMail; got: Received }> {
  const transport = smtpMailTransport(`smtp://sender:s3cret@127.0.0.1:${port}`)
  try {
    const before = received.length
    const sent = await transport.send(msg)
    expect(sent.messageId).toMatch(/^<.+@acme\.test>$/)
    const got = received[before]!
    return { mail: await simpleParser(got.raw), got }
  } finally {
    transport.close()
  }
}

describe('smtp mail transport (real SMTP server)', () => {
  it('delivers the envelope, a UTF-8 subject and both parts', async () => {
    const { mail, got } = await sendAndParse(message)
    expect(got.from).toBe('no-reply@acme.test')
    expect(got.to).toEqual(['jeanne@example.test'])
    expect(got.user).toBe('sender')
    expect(got.raw).toMatch(/^Subject: =\?UTF-8\?/m) // encoded on the wire, decoded below
    expect(mail.subject).toBe('Confirmez votre inscription – ACME ✓')
    expect(mail.html).toContain('<p>Bonjour <b>Jeanne</b></p>')
    expect(mail.text).toContain('https://gateway.test/c/tok?a=1&b=2')
    expect(got.raw).toMatch(/Content-Type: multipart\/alternative/i)
    expect(mail.headers.get('x-campaign-id')).toBe('welcome-1')
  })

  it('writes ONE List-Unsubscribe header with both URIs, and List-Unsubscribe-Post', async () => {
    const { mail } = await sendAndParse(message)
    const lines = mail.headerLines.filter((h) => h.key === 'list-unsubscribe')
    expect(lines).toHaveLength(1)
    expect(lines[0]!.line.replace(/\r?\n\s+/g, ' ')).toBe(
      'List-Unsubscribe: <https://gateway.test/u/tok123>, <mailto:unsubscribe@acme.test>',
    )
    const post = mail.headerLines.filter((h) => h.key === 'list-unsubscribe-post')
    expect(post.map((h) => h.line)).toEqual(['List-Unsubscribe-Post: List-Unsubscribe=One-Click'])
  })

  it('omits List-Unsubscribe-Post without one-click, and list headers without listUnsubscribe', async () => {
    const noOneClick = await sendAndParse({
      ...message,
      listUnsubscribe: { url: 'https://gateway.test/u/t', oneClick: false },
    })
    const keys = noOneClick.mail.headerLines.map((h) => h.key)
    expect(keys).toContain('list-unsubscribe')
    expect(keys).not.toContain('list-unsubscribe-post')
    const { listUnsubscribe: _l, ...plain } = message
    const none = await sendAndParse(plain)
    expect(none.mail.headerLines.map((h) => h.key)).not.toContain('list-unsubscribe')
  })

  it('is what nodeMailTransport builds for MAIL_TRANSPORT=smtp', async () => {
    const config = parseConfig({
      MAIL_TRANSPORT: 'smtp',
      SMTP_URL: `smtp://127.0.0.1:${port}`,
    })
    const transport = nodeMailTransport(config)
    try {
      expect(transport.name).toBe('smtp')
      const before = received.length
      await transport.send(message)
      expect(received[before]?.to).toEqual(['jeanne@example.test'])
    } finally {
      transport.close()
    }
  })
})
