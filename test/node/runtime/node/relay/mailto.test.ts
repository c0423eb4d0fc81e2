// List-Unsubscribe mailto: (RFC 2369) when UNSUBSCRIBE_MAILTO is set: a compact token in the
// sub-address, mail to it taken without AUTH by the relay's listener, which withdraws.
import { afterEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../../src/config.ts'
import {
  MAILTO_TOKEN_LENGTH,
  mailtoToken,
  readMailtoToken,
} from '../../../../../src/domain/sending/mailto-tokens.ts'
import { sendMarketingMail } from '../../../../../src/domain/sending/send.ts'
import { deriveKeys } from '../../../../../src/lib/keys.ts'
import { nodeAead } from '../../../../../src/runtime/node/crypto.ts'
import { api, apiKey } from '../../../../helpers/api.ts'
import { testDeps, TEST_SECRET } from '../../../../helpers/deps.ts'
import {
  consentedContact,
  lastReceived,
  linesNamed,
  sendVia,
  smtpRefusal,
  startRelayRig,
} from '../../../../helpers/relay.ts'
import { createApp } from '../../../../../src/app.ts'

const ENV = {
  RELAY_PORT: '0',
  RELAY_UPSTREAM_URL: 'smtp://127.0.0.1:2525',
  UNSUBSCRIBE_MAILTO: 'unsubscribe@news.acme.test',
}
const CONTACT = '0b6f6c1e-8d2a-4f3b-9c11-5a7e2d4b9f01'

describe('the mailto token', () => {
  it('fits a local part with room to spare, and reads back the contact and purpose', async () => {
    const { deps } = await testDeps()
    const token = await mailtoToken(deps, CONTACT, 'newsletter')
    expect(token).toMatch(/^[a-z2-7]+$/)
    expect(token).toHaveLength(MAILTO_TOKEN_LENGTH)
    expect(`unsubscribe+${token}`.length).toBeLessThanOrEqual(64)
    expect(await readMailtoToken(deps, token, ['email_marketing', 'newsletter'])).toEqual({
      contactId: CONTACT,
      purpose: 'newsletter',
    })
    // Mail systems may upper-case a local part.
    expect(await readMailtoToken(deps, token.toUpperCase(), ['newsletter'])).not.toBeNull()
  })

  it('refuses a changed character, another purpose, or another secret', async () => {
    const { deps } = await testDeps()
    const token = await mailtoToken(deps, CONTACT, 'newsletter')
    const flipped = token.slice(0, 5) + (token[5] === 'a' ? 'b' : 'a') + token.slice(6)
    expect(await readMailtoToken(deps, flipped, ['newsletter'])).toBeNull()
    expect(await readMailtoToken(deps, token, ['email_marketing'])).toBeNull()
    expect(await readMailtoToken(deps, token.slice(1), ['newsletter'])).toBeNull()
    const other = await testDeps({ APP_SECRET: 'another-secret-0123456789-abcdefghijklmnop' })
    expect(await readMailtoToken(other.deps, token, ['newsletter'])).toBeNull()
  })

  it('stays valid after a secret rotation (APP_SECRET_PREVIOUS)', async () => {
    const { deps } = await testDeps()
    const token = await mailtoToken(deps, CONTACT, 'newsletter')
    const rotated = {
      ...deps,
      keys: await deriveKeys('a-brand-new-secret-0123456789-abcdefghij', TEST_SECRET, nodeAead),
    }
    expect(await readMailtoToken(rotated, token, ['newsletter'])).not.toBeNull()
  })
})

describe('UNSUBSCRIBE_MAILTO configuration', () => {
  it('needs the relay listener, and a local part short enough for the token', () => {
    expect(() => parseConfig({ UNSUBSCRIBE_MAILTO: 'unsubscribe@acme.test' })).toThrow(
      /UNSUBSCRIBE_MAILTO needs the SMTP listener \(RELAY_PORT\)/,
    )
    expect(() =>
      parseConfig({ ...ENV, UNSUBSCRIBE_MAILTO: 'a-very-long-local-part-here@acme.test' }),
    ).toThrow(/at most 21 characters/)
    expect(() => parseConfig({ ...ENV, UNSUBSCRIBE_MAILTO: 'not an address' })).toThrow(
      /plain local@domain/,
    )
    expect(parseConfig(ENV).mail.unsubscribeMailto).toBe('unsubscribe@news.acme.test')
  })
})

describe('the relay takes mail to the unsubscribe address', () => {
  let close: (() => Promise<void>) | undefined
  afterEach(async () => close?.())

  async function rig() {
    const r = await startRelayRig({}, ENV)
    close = r.close
    const contactId = await consentedContact(r.deps, 'jeanne@exemple.fr')
    const gate = async () =>
      (
        await api(createApp(r.deps), await apiKey(r.deps, ['gate'])).gate('push_notifications', [
          { contact_id: contactId },
        ])
      )[0]!
    return { ...r, contactId, gate }
  }

  it('puts the mailto beside the https URL in one List-Unsubscribe, and withdraws when it is used', async () => {
    const r = await rig()
    await r.send('push_notifications', r.relayKey, {
      from: 'news@acme.test',
      to: 'jeanne@exemple.fr',
      subject: 'Nouveautés',
      html: '<p>Bonjour</p>',
      text: 'Bonjour',
    })
    const mail = lastReceived(r.upstream.received)
    const header = linesNamed(mail, 'List-Unsubscribe')[0]!.replace(/\r?\n[ \t]+/g, ' ') // unfolded
    expect(linesNamed(mail, 'List-Unsubscribe')).toHaveLength(1)
    const mailto = /<mailto:([^?>]+)\?subject=unsubscribe>/.exec(header)?.[1]
    expect(header).toMatch(/^List-Unsubscribe: <https:\/\/gateway\.test\/u\/[^>]+>, <mailto:/)
    expect(mailto).toMatch(/^unsubscribe\+[a-z2-7]{42}@news\.acme\.test$/)
    expect(await r.gate()).toMatchObject({ allowed: true })

    // A mailbox provider delivers the unsubscribe mail, without AUTH.
    await sendVia(r.relay.port, '', '', {
      from: 'jeanne@exemple.fr',
      to: mailto!,
      subject: 'unsubscribe',
      text: '',
    })
    expect(await r.gate()).toMatchObject({ allowed: false, reason: 'withdrawn' })
    const [event] = r.sqlite
      .prepare("SELECT method, actor FROM consent_events WHERE action = 'withdrawn'")
      .all()
    expect(event).toEqual({ method: 'mailto', actor: 'contact' })
    // Nothing was forwarded upstream.
    expect(r.upstream.received).toHaveLength(1)
  })

  it('refuses mail without AUTH to any other address with 530, and a forged token with a clear 550', async () => {
    const r = await rig()
    const to = (address: string) =>
      smtpRefusal(sendVia(r.relay.port, '', '', { from: 'x@y.fr', to: address, text: 'x' }))
    expect(await to('jeanne@exemple.fr')).toMatchObject({ code: 530 })
    const token = await mailtoToken(r.deps, r.contactId, 'push_notifications')
    expect(await to(`unsubscribe+${token}@other.test`)).toMatchObject({ code: 530 })
    // A person's mail to our unsubscribe address with a changed or cut token: told so, in both languages.
    for (const address of [
      `unsubscribe+${'a'.repeat(42)}@news.acme.test`,
      `unsubscribe+${token.slice(0, 20)}@news.acme.test`,
      'unsubscribe@news.acme.test',
    ]) {
      const refused = await to(address)
      expect(refused.code).toBe(550)
      expect(refused.response).toMatch(/^550 5\.1\.1 This unsubscribe address is not valid/)
      expect(refused.response).toContain("Cette adresse de desinscription n'est pas valide")
    }
    expect(await r.gate()).toMatchObject({ allowed: true })
  })

  it("puts the gateway's mailto in place of the sender's: one mailto, the one that withdraws here", async () => {
    const r = await rig()
    await r.send('push_notifications', r.relayKey, {
      from: 'news@acme.test',
      to: 'jeanne@exemple.fr',
      subject: 'Nouveautés',
      text: 'Bonjour',
      list: { unsubscribe: ['unsub@mautic.acme.test'] },
    })
    const header = linesNamed(lastReceived(r.upstream.received), 'List-Unsubscribe')
    expect(header).toHaveLength(1)
    const uris = [...header[0]!.matchAll(/<([^>]+)>/g)].map((m) => m[1]!)
    expect(uris).toHaveLength(2)
    expect(uris[0]).toMatch(/^https:\/\/gateway\.test\/u\//)
    expect(uris[1]).toMatch(
      /^mailto:unsubscribe\+[a-z2-7]{42}@news\.acme\.test\?subject=unsubscribe$/,
    )
  })
})

describe('POST /api/v1/send with UNSUBSCRIBE_MAILTO', () => {
  it('adds the mailto to the list headers', async () => {
    const { deps, mail } = await testDeps(ENV)
    await consentedContact(deps, 'jeanne@exemple.fr')
    const r = await sendMarketingMail(deps, {
      purpose: 'push_notifications',
      to: 'jeanne@exemple.fr',
      subject: 's',
      html: '<p>x</p>',
    })
    expect(r.status).toBe('queued')
    const { deliverOutbox } = await import('../../../../../src/domain/platform/outbox.ts')
    await deliverOutbox(deps)
    expect(mail.sent[0]!.listUnsubscribe?.mailto).toMatch(
      /^mailto:unsubscribe\+[a-z2-7]{42}@news\.acme\.test\?subject=unsubscribe$/,
    )
  })
})
