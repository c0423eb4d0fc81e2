// MAIL_TRANSPORT=http inside workerd: the same fetch-only transport, intercepted with msw.
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { httpMailTransport } from '../../src/mail/http.ts'

const ENDPOINT = 'https://mail-api.test/v1/send'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const message = {
  from: 'no-reply@acme.test',
  to: 'jeanne@example.test',
  subject: 'Confirmez – ACME ✓',
  html: '<p>Bonjour</p>',
  text: 'Bonjour',
}

describe('http mail transport in workerd', () => {
  it('POSTs JSON with the bearer token and returns the provider id', async () => {
    let auth: string | null = null
    let body: unknown
    server.use(
      http.post(ENDPOINT, async ({ request }) => {
        auth = request.headers.get('authorization')
        body = await request.json()
        return HttpResponse.json({ id: 'prov-1' })
      }),
    )
    const sent = await httpMailTransport({ url: ENDPOINT, token: 'tok' }).send(message)
    expect(sent.messageId).toBe('prov-1')
    expect(auth).toBe('Bearer tok')
    expect(body).toEqual({ ...message, headers: {} })
  })

  it('rejects on a 500', async () => {
    server.use(http.post(ENDPOINT, () => new HttpResponse('oops', { status: 500 })))
    await expect(httpMailTransport({ url: ENDPOINT }).send(message)).rejects.toThrow(/answered 500/)
  })
})
