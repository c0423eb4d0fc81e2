// Our Standard Webhooks signing, checked by the scheme's own library (the `standardwebhooks` package):
// what a receiver runs to verify a correction or erasure passed on under GDPR Art. 19.
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import {
  newWebhookSecret,
  signWebhook,
  webhookSecretKey,
} from '../../../src/lib/standard-webhooks.ts'

describe('Standard Webhooks signing', () => {
  it('produces headers the standardwebhooks library verifies', async () => {
    const secret = newWebhookSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const body = JSON.stringify({ type: 'contact.erased', data: { email: 'anne@exemple.fr' } })
    const headers = await signWebhook(secret, 'msg_1', Date.now(), body)
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body))
    // The library signs the same bytes the same way.
    expect(headers['webhook-signature']).toBe(
      new Webhook(secret).sign(
        'msg_1',
        new Date(Number(headers['webhook-timestamp']) * 1000),
        body,
      ),
    )
  })

  it('is refused by the library when the body, the id or the secret differ', async () => {
    const secret = newWebhookSecret()
    const headers = await signWebhook(secret, 'msg_2', Date.now(), '{"a":1}')
    expect(() => new Webhook(secret).verify('{"a":2}', { ...headers })).toThrow()
    expect(() =>
      new Webhook(secret).verify('{"a":1}', { ...headers, 'webhook-id': 'msg_3' }),
    ).toThrow()
    expect(() => new Webhook(newWebhookSecret()).verify('{"a":1}', { ...headers })).toThrow()
  })

  it('refuses a secret that is not whsec_ and 24 to 64 bytes', () => {
    expect(() => webhookSecretKey('abc')).toThrow(/whsec_/)
    expect(() => webhookSecretKey('whsec_AAAA')).toThrow(/24 to 64/)
  })
})
