// The relay re-signs what it changed (RFC 8058 §4: both list headers under a valid DKIM signature).
import { generateKeyPairSync } from 'node:crypto'
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { crlfLineEnds, dkimSign } from '../../../../../src/runtime/node/relay/dkim.ts'
import { upstreamTransport } from '../../../../../src/runtime/node/relay/upstream.ts'
import { startServer } from '../../../../../src/runtime/node/server.ts'
import { TEST_SECRET } from '../../../../helpers/deps.ts'
import {
  consentedContact,
  lastReceived,
  linesNamed,
  sendVia,
  startRelayRig,
} from '../../../../helpers/relay.ts'
import { startSmtpServer } from '../../../../helpers/smtp.ts'

// mailauth ships no types; this is the part of its result the test reads.
type DkimResult = { results: { status: { result: string }; signingHeaders?: { keys: string } }[] }
const { dkimVerify } = createRequire(import.meta.url)('mailauth/lib/dkim/verify') as {
  dkimVerify(
    message: Buffer,
    options: { resolver: (name: string, rr: string) => Promise<string[][]> },
  ): Promise<DkimResult>
}

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'der' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
})
const dnsName = 'relay2026._domainkey.acme.test'
// The test key as DNS would publish it: no network.
const resolver = async (name: string, rr: string) => {
  if (name === dnsName && rr === 'TXT')
    return [[`v=DKIM1; k=rsa; p=${publicKey.toString('base64')}`]]
  throw Object.assign(new Error(`no ${rr} record for ${name}`), { code: 'ENOTFOUND' })
}

let rig: Awaited<ReturnType<typeof startRelayRig>>
beforeAll(async () => {
  rig = await startRelayRig({
    dkim: { domainName: 'acme.test', keySelector: 'relay2026', privateKey },
  })
  await consentedContact(rig.deps, 'anne@exemple.fr')
})
afterAll(() => rig.close())

describe('SMTP relay: DKIM', () => {
  it('drops the broken signature and signs again, h= covering both List-Unsubscribe headers', async () => {
    await rig.send('push_notifications', rig.relayKey, {
      from: 'news@acme.test',
      to: 'anne@exemple.fr',
      subject: 'Signé ✓',
      html: '<p>Bonjour</p>',
      text: 'Bonjour',
      headers: { 'DKIM-Signature': 'v=1; a=rsa-sha256; d=mautic.test; s=old; h=from; bh=x; b=x' },
    })
    const got = lastReceived(rig.upstream.received)
    const signatures = linesNamed(got, 'DKIM-Signature')
    expect(signatures).toHaveLength(1)
    const h = /\bh=([^;]+)/.exec(signatures[0]!.replace(/\s+/g, ''))![1]!.toLowerCase().split(':')
    expect(h).toEqual(
      expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post', 'list-id']),
    )
    // Oversigned: each named once more than the message has it (RFC 6376 §5.4.2).
    const times = (name: string) => h.filter((n) => n === name).length
    expect([times('list-unsubscribe'), times('list-unsubscribe-post'), times('from')]).toEqual([
      2, 2, 2,
    ])

    const verified = await dkimVerify(Buffer.from(got.raw), { resolver })
    expect(verified.results.map((r) => r.status.result)).toEqual(['pass'])
    // The check has teeth: a changed List-Unsubscribe-Post no longer verifies.
    const tampered = got.raw.replace('List-Unsubscribe=One-Click', 'List-Unsubscribe=Two-Clicks')
    const failed = await dkimVerify(Buffer.from(tampered), { resolver })
    expect(failed.results.map((r) => r.status.result)).not.toContain('pass')
    // …and neither does one with another List-Unsubscribe or List-Unsubscribe-Post put on top.
    for (const added of [
      'List-Unsubscribe: <https://evil.example/u>\r\n',
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n',
    ]) {
      const prepended = await dkimVerify(Buffer.from(added + got.raw), { resolver })
      expect(prepended.results.map((r) => r.status.result)).not.toContain('pass')
    }
  })
})

describe('dkimSign', () => {
  it('canonicalizes as verifiers do: blanks, folded headers, empty lines, a lone CR, no body', async () => {
    const key = { domainName: 'acme.test', keySelector: 'relay2026', privateKey }
    for (const raw of [
      'From: a@acme.test\r\nSubject:  Folded\r\n\tsubject  \r\nTo: b@x.test\r\n\r\n' +
        'Line  with \t blanks \t\r\n\r\nbare\rCR\r\nbare LF\n\r\n\r\n  \r\n',
      'From: a@acme.test\r\nTo: b@x.test\r\n\r\n',
      'From: a@acme.test\r\nList-Unsubscribe: <https://g.test/u/1>\r\n\r\nx',
    ]) {
      const signed = dkimSign(Buffer.from(raw), key)
      const verified = await dkimVerify(signed, { resolver })
      expect(verified.results.map((r) => r.status.result)).toEqual(['pass'])
    }
  })
})

describe('crlfLineEnds', () => {
  it('makes every bare CR and bare LF a CRLF, and leaves a message without them as it is', () => {
    const text = fc
      .array(fc.constantFrom('a', 'é', '.', ' ', '\r', '\n', '\r\n'), { maxLength: 40 })
      .map((xs) => xs.join(''))
    fc.assert(
      fc.property(text, (x) => {
        const out = crlfLineEnds(Buffer.from(x))
        expect(out.toString()).toBe(x.replace(/\r\n|\r|\n/g, '\r\n'))
      }),
      { numRuns: 2000 },
    )
    const clean = Buffer.from('a\r\nb\r\n')
    expect(crlfLineEnds(clean)).toBe(clean)
  })
})

describe('the relay upstream', () => {
  it('signs the message as SMTP carries it: a bare CR or LF arrives as CRLF and still verifies', async () => {
    const upstream = await startSmtpServer()
    const out = upstreamTransport(upstream.url, {
      domainName: 'acme.test',
      keySelector: 'relay2026',
      privateKey,
    })
    try {
      // Old Mac line ends in the body (RFC 5322 forbids them; some tools still write them).
      const raw =
        'From: a@acme.test\r\nTo: b@x.test\r\nSubject: x\r\n\r\n' +
        'old Mac\rline ends\rthen a bare LF\nend\r\n'
      await out.send(Buffer.from(raw), { from: 'a@acme.test', to: ['b@x.test'] }, true)
      const got = upstream.received.at(-1)!.raw
      expect(got).toContain('old Mac\r\nline ends\r\nthen a bare LF\r\nend\r\n')
      const verified = await dkimVerify(Buffer.from(got), { resolver })
      expect(verified.results.map((r) => r.status.result)).toEqual(['pass'])
    } finally {
      out.close()
      await upstream.close()
    }
  })
})

describe('startServer', () => {
  it('starts the relay with RELAY_PORT and RELAY_UPSTREAM_URL, and stops it on close', async () => {
    const upstream = await startSmtpServer()
    const running = await startServer(
      {
        PORT: '0',
        APP_SECRET: TEST_SECRET,
        DATABASE_PATH: ':memory:',
        RELAY_PORT: '0',
        RELAY_UPSTREAM_URL: upstream.url,
      },
      { log: () => {} },
    )
    try {
      expect(running.relayPort).toBeGreaterThan(0)
      const refused = await sendVia(running.relayPort!, 'newsletter', 'nope', {
        from: 'a@acme.test',
        to: 'b@exemple.fr',
        text: 'x',
      }).catch((err: { responseCode: number }) => err.responseCode)
      expect(refused).toBe(535)
    } finally {
      await running.close()
      await upstream.close()
    }
    await expect(
      sendVia(running.relayPort!, 'newsletter', 'nope', {
        from: 'a@acme.test',
        to: 'b@exemple.fr',
        text: 'x',
      }),
    ).rejects.toMatchObject({ code: 'ESOCKET' })
  })
})
