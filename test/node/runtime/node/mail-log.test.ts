// MAIL_TRANSPORT=log on Node: real .eml files, parseable by a mail client's parser.
import { simpleParser } from 'mailparser'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../src/config.ts'
import type { MailMessage } from '../../../../src/mail/message.ts'
import { logMailTransport, nodeMailTransport } from '../../../../src/runtime/node/mail.ts'
import { fixedClock, TEST_NOW } from '../../../helpers/deps.ts'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-mail-'))
  dirs.push(dir)
  return join(dir, 'data', 'mail') // not there yet: the transport creates it
}
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

const message: MailMessage = {
  from: 'no-reply@acme.test',
  to: 'jeanne@example.test',
  subject: 'Confirmez votre inscription – ACME ✓',
  html: '<p>Cliquez <a href="https://gateway.test/c/x?a=1&amp;b=2">ici</a></p>',
  text: 'Cliquez : https://gateway.test/c/x?a=1&b=2',
  listUnsubscribe: {
    url: 'https://gateway.test/u/t',
    mailto: 'mailto:u@acme.test',
    oneClick: true,
  },
}

describe('log mail transport (Node)', () => {
  it('writes a parseable RFC 5322 .eml file with both parts and the list headers', async () => {
    const dir = tempDir()
    const sent = await logMailTransport({ dir }).send(message)
    const files = readdirSync(dir)
    expect(files).toHaveLength(1)
    expect(files[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{8}\.eml$/)
    const path = join(dir, files[0]!)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const raw = readFileSync(path)
    const mail = await simpleParser(raw)
    expect(mail.messageId).toBe(sent.messageId)
    expect(mail.subject).toBe(message.subject)
    expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe('jeanne@example.test')
    expect(mail.text?.trim()).toBe(message.text)
    expect(mail.html).toContain('href="https://gateway.test/c/x?a=1&amp;b=2"')
    expect(raw.toString()).toMatch(/Content-Type: multipart\/alternative/i)
    const unsubscribe = mail.headerLines.filter((h) => h.key === 'list-unsubscribe')
    expect(unsubscribe.map((h) => h.line)).toEqual([
      'List-Unsubscribe: <https://gateway.test/u/t>, <mailto:u@acme.test>',
    ])
  })

  it('names files so that they sort by time', async () => {
    const dir = tempDir()
    const clock = fixedClock(TEST_NOW)
    const transport = logMailTransport({ dir, clock })
    for (const subject of ['first', 'second', 'third']) {
      await transport.send({ ...message, subject })
      clock.advance(1)
    }
    const files = readdirSync(dir).sort()
    const subjects = await Promise.all(
      files.map(async (f) => (await simpleParser(readFileSync(join(dir, f)))).subject),
    )
    expect(subjects).toEqual(['first', 'second', 'third'])
    expect(files[0]).toMatch(/^2026-11-29T09-00-00-000Z-/)
  })

  it('is the default transport, writing under opts.logDir', async () => {
    const dir = tempDir()
    const transport = nodeMailTransport(parseConfig({}), { logDir: dir })
    expect(transport.name).toBe('log')
    await transport.send(message)
    expect(readdirSync(dir)).toHaveLength(1)
  })

  it('builds the mautic transport when MAIL_TRANSPORT=mautic (tested in mail-mautic.test.ts)', () => {
    const config = parseConfig({
      MAIL_TRANSPORT: 'mautic',
      MAUTIC_URL: 'https://mautic.test',
      MAUTIC_USERNAME: 'u',
      MAUTIC_PASSWORD: 'p',
      MAUTIC_CONFIRM_EMAIL_ID: '7',
    })
    expect(nodeMailTransport(config).name).toBe('mautic')
  })
})
