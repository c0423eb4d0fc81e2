// MAIL_TRANSPORT=log on Workers: the message lands in D1's mail_log, encrypted, and no log names the address.
import { env } from 'cloudflare:test'
import { Kysely } from 'kysely'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Database } from '../../src/db/database.ts'
import { decryptField, deriveKeys } from '../../src/lib/keys.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import {
  d1LogMailTransport,
  mailLogAad,
  workerMailTransport,
} from '../../src/runtime/worker/mail.ts'
import type { MailMessage } from '../../src/mail/message.ts'
import { D1Dialect } from '../../src/runtime/worker/d1-dialect.ts'

const NOW = Date.UTC(2026, 10, 29, 9, 0, 0)
const message: MailMessage = {
  from: 'no-reply@acme.test',
  to: 'jeanne.dupont@example.test',
  subject: 'Confirmez votre inscription – ACME ✓',
  html: '<p><a href="https://gateway.test/c/secret-token">ok</a></p>',
  text: 'https://gateway.test/c/secret-token',
  listUnsubscribe: { url: 'https://gateway.test/u/t', oneClick: true },
}

async function setup() {
  const lines: string[] = []
  const deps = {
    db: new Kysely<Database>({ dialect: new D1Dialect(env.DB) }),
    keys: await deriveKeys(env.APP_SECRET),
    clock: { now: () => NOW },
    logger: jsonLogger((line) => lines.push(line)),
  }
  return { deps, lines }
}

interface Row {
  id: string
  created_at: number
  recipient_enc: string
  subject: string
  message: string
}

describe('D1 log mail transport', () => {
  it('stores one encrypted row and logs a line without the address', async () => {
    const { deps, lines } = await setup()
    const subject = `${message.subject} ${crypto.randomUUID()}` // finds this test's row
    const sent = await d1LogMailTransport(deps).send({ ...message, subject })
    expect(sent.messageId).toMatch(/^<[0-9a-f-]{36}@acme\.test>$/)

    const { results } = await env.DB.prepare('SELECT * FROM mail_log WHERE subject = ?')
      .bind(subject)
      .all<Row>()
    expect(results).toHaveLength(1)
    const row = results[0]!
    expect(row.created_at).toBe(NOW)
    const raw = JSON.stringify(row)
    expect(raw).not.toContain('jeanne')
    expect(raw).not.toContain('example.test')
    expect(raw).not.toContain('secret-token')

    expect(
      await decryptField(deps.keys, row.recipient_enc, mailLogAad(row.id, 'recipient_enc')),
    ).toBe(message.to)
    const stored = JSON.parse(
      await decryptField(deps.keys, row.message, mailLogAad(row.id, 'message')),
    )
    expect(stored).toMatchObject({ messageId: sent.messageId, to: message.to, html: message.html })
    expect(stored.headers).toEqual({
      'List-Unsubscribe': '<https://gateway.test/u/t>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    })
    // A ciphertext moved to another row or column does not decrypt.
    await expect(
      decryptField(deps.keys, row.recipient_enc, mailLogAad('other', 'recipient_enc')),
    ).rejects.toThrow()

    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'mail logged', mailLogId: row.id })
    expect(lines[0]).not.toContain('jeanne')
    expect(lines[0]).not.toContain('[email]') // not even masked: it is simply not there
  })

  it('is what workerMailTransport picks for MAIL_TRANSPORT=log; smtp is refused by name', async () => {
    const { deps } = await setup()
    const base = { APP_SECRET: env.APP_SECRET, PUBLIC_URL: 'https://gateway.test' }
    expect(workerMailTransport(parseConfig(base), deps).name).toBe('log')
    const http = { ...base, MAIL_TRANSPORT: 'http', MAIL_HTTP_URL: 'https://mail-api.test/send' }
    expect(workerMailTransport(parseConfig(http), deps).name).toBe('http')
    const smtp = parseConfig({ ...base, MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://mail.test:587' })
    expect(() => workerMailTransport(smtp, deps)).toThrow(/MAIL_TRANSPORT=smtp .*Workers/)
  })
})
