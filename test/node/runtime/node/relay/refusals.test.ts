// The SMTP relay refuses clearly and survives: no consent, bad login, unknown purpose, bad input.
import { createServer } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { objectToMarketing } from '../../../../../src/domain/rights/objection.ts'
import {
  blockedSends,
  consentedContact,
  smtpRefusal,
  smtpRefusalAt,
  startRelayRig,
} from '../../../../helpers/relay.ts'

let rig: Awaited<ReturnType<typeof startRelayRig>>
beforeAll(async () => {
  rig = await startRelayRig({ maxSize: 20_000 })
  await consentedContact(rig.deps, 'anne@exemple.fr') // push_notifications only
})
afterAll(() => rig.close())

const mail = { from: 'news@acme.test', to: 'anne@exemple.fr', subject: 'Offre', text: 'Bonjour' }

describe('SMTP relay: refusals', () => {
  it('refuses at RCPT TO only whom no purpose could reach: unknown, suppressed, objected', async () => {
    const before = rig.upstream.received.length
    const unknown = await smtpRefusalAt(
      rig.send('push_notifications', rig.relayKey, { ...mail, to: 'x@exemple.fr' }),
    )
    expect(unknown).toEqual({
      refusal: { code: 550, response: '550 5.7.1 unknown_contact' },
      command: 'RCPT TO',
    })
    const objector = await consentedContact(rig.deps, 'olga@exemple.fr')
    await objectToMarketing(rig.deps, objector, {
      method: 'objection',
      source: 'test',
      actor: 'contact',
      evidence: {},
    })
    const objected = await smtpRefusalAt(
      rig.send('push_notifications', rig.relayKey, { ...mail, to: 'olga@exemple.fr' }),
    )
    expect(objected.command).toBe('RCPT TO')
    expect(objected.refusal.response).toMatch(/^550 5\.7\.1 (objected|suppressed)$/)
    // Without consent for the login's purpose, the recipient is refused after DATA, not before.
    const noConsent = await smtpRefusalAt(rig.send('geolocation', rig.relayKey, mail))
    expect(noConsent).toEqual({
      refusal: { code: 550, response: '550 5.7.1 no_consent' },
      command: 'DATA',
    })
    expect(rig.upstream.received.length).toBe(before)
  })

  it('decides the purpose after DATA: the header when present, else the login', async () => {
    const before = rig.upstream.received.length
    // Mautic's case: one login for all its mail, the purpose per e-mail. anne holds
    // push_notifications only, so a login of geolocation must not refuse her at RCPT TO.
    const info = await rig.send('geolocation', rig.relayKey, {
      ...mail,
      headers: { 'X-Consent-Purpose': 'push_notifications' },
    })
    expect(info.accepted).toEqual(['anne@exemple.fr'])
    expect(rig.upstream.received.length).toBe(before + 1)
    const refused = await smtpRefusal(
      rig.send('push_notifications', rig.relayKey, {
        ...mail,
        headers: { 'X-Consent-Purpose': 'geolocation' },
      }),
    )
    expect(refused).toEqual({ code: 550, response: '550 5.7.1 no_consent' })
    expect(rig.upstream.received.length).toBe(before + 1)
  })

  it('forwards to the recipients the purpose allows, tells the sender of the others and counts them', async () => {
    await consentedContact(rig.deps, 'carl@exemple.fr', ['push_notifications', 'geolocation'])
    const before = rig.upstream.received.length
    const counted = blockedSends(rig.sqlite)
    const info = await rig.send('push_notifications', rig.relayKey, {
      ...mail,
      to: ['anne@exemple.fr', 'carl@exemple.fr'],
      headers: { 'X-Consent-Purpose': 'geolocation' },
    })
    expect(info.response).toBe(
      '250 OK: forwarded to 1 of 2 recipient(s); 1 refused for "geolocation" (no_consent)',
    )
    expect(rig.upstream.received.slice(before).map((m) => m.envelope.to)).toEqual([
      ['carl@exemple.fr'],
    ])
    const dropped = rig.logs.find((l) => l.msg === 'relay: recipients dropped after DATA')
    expect(dropped).toMatchObject({ purpose: 'geolocation', reasons: ['no_consent'] })
    expect(JSON.stringify(rig.logs)).not.toMatch(/anne@|carl@/)
    const row = (rows: unknown[]) =>
      rows.find(
        (r) =>
          (r as { source: string }).source === 'relay_data' &&
          (r as { purpose_key: string }).purpose_key === 'geolocation',
      ) as { count: number } | undefined
    expect(row(blockedSends(rig.sqlite))!.count).toBe((row(counted)?.count ?? 0) + 1)
  })

  it('counts every refusal where an operator will see it: sends_refused, per place, purpose and reason', async () => {
    const t = await startRelayRig()
    try {
      await consentedContact(t.deps, 'anne@exemple.fr')
      await smtpRefusal(t.send('push_notifications', t.relayKey, { ...mail, to: 'x@exemple.fr' }))
      await smtpRefusal(t.send('geolocation', t.relayKey, mail))
      await smtpRefusal(t.send('geolocation', t.relayKey, mail))
      expect(blockedSends(t.sqlite)).toEqual([
        { source: 'relay_data', purpose_key: 'geolocation', reason: 'no_consent', count: 2 },
        { source: 'relay_rcpt', purpose_key: '', reason: 'unknown_contact', count: 1 },
      ])
    } finally {
      await t.close()
    }
  })

  it('refuses an unknown purpose with a clear 550', async () => {
    const refused = await smtpRefusal(rig.send('mautic', rig.relayKey, mail))
    expect(refused.code).toBe(550)
    expect(refused.response).toMatch(/^550 5\.7\.1 unknown_purpose: "mautic"/)
  })

  it.each([
    ['a wrong key', 'push_notifications', 'cgk_aaaaaaaaaaaa_' + 'A'.repeat(43)],
    ['a key without the relay scope', 'push_notifications', 'transactional-key'],
    ['transactional with a plain relay key', 'transactional', 'relay-key'],
  ])('answers 535 to %s', async (_name, user, pass) => {
    const key =
      pass === 'relay-key'
        ? rig.relayKey
        : pass === 'transactional-key'
          ? rig.transactionalKey
          : pass
    const refused = await smtpRefusal(rig.send(user, key, mail))
    expect(refused.code).toBe(535)
  })

  it('answers 552 to a message over the size limit', async () => {
    const refused = await smtpRefusal(
      rig.send('push_notifications', rig.relayKey, { ...mail, text: 'x'.repeat(30_000) }),
    )
    expect(refused.code).toBe(552)
  })

  it('refuses a message without To: and garbage, then still relays the next message', async () => {
    const envelope = { from: 'news@acme.test', to: ['anne@exemple.fr'] }
    const noTo = await smtpRefusal(
      rig.send('push_notifications', rig.relayKey, {
        envelope,
        raw: 'From: news@acme.test\r\nSubject: x\r\n\r\nBonjour\r\n',
      }),
    )
    expect(noTo.response).toBe('554 5.6.0 The message has no To: header')
    const garbage = await smtpRefusal(
      rig.send('push_notifications', rig.relayKey, {
        envelope,
        raw: Buffer.from([0, 1, 2, 255, 10, 13]),
      }),
    )
    expect(garbage.code).toBe(554)
    const info = await rig.send('push_notifications', rig.relayKey, mail)
    expect(info.accepted).toEqual(['anne@exemple.fr'])
  })

  it('answers 451 when the upstream is down, so the sender retries', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number }
        s.close(() => resolve(port))
      })
    })
    const down = await startRelayRig({ upstreamUrl: `smtp://127.0.0.1:${port}` })
    try {
      await consentedContact(down.deps, 'anne@exemple.fr')
      const refused = await smtpRefusal(down.send('push_notifications', down.relayKey, mail))
      expect(refused).toEqual({
        code: 451,
        response: '451 4.4.1 Upstream mail server unavailable, try again later',
      })
    } finally {
      await down.close()
    }
  })
})
