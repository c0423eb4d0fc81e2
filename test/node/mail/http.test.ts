// MAIL_TRANSPORT=http: the JSON POST to MAIL_HTTP_URL, intercepted with msw (outbound HTTP only).
import { delay, http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { httpMailTransport } from '../../../src/mail/http.ts'
import type { MailMessage } from '../../../src/mail/message.ts'
import { nodeMailTransport } from '../../../src/runtime/node/mail.ts'

const ENDPOINT = 'https://mail-api.test/v1/send'
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const message: MailMessage = {
  from: 'ACME <no-reply@acme.test>',
  to: 'jeanne@example.test',
  subject: 'Confirmez – ACME ✓',
  html: '<p>Bonjour</p>',
  text: 'Bonjour',
  headers: { 'X-Campaign-Id': 'c1' },
  listUnsubscribe: { url: 'https://gateway.test/u/t', mailto: 'u@acme.test', oneClick: true },
}

/** Records each request and answers with `answer`. */
function capture(answer: () => Response | Promise<Response>) {
  const seen: { body: unknown; auth: string | null; type: string | null }[] = []
  server.use(
    http.post(ENDPOINT, async ({ request }) => {
      seen.push({
        body: await request.json(),
        auth: request.headers.get('authorization'),
        type: request.headers.get('content-type'),
      })
      return answer()
    }),
  )
  return seen
}

describe('http mail transport', () => {
  it('POSTs the message as JSON with the bearer token and the list headers', async () => {
    const seen = capture(() => HttpResponse.json({ id: 'prov-42' }, { status: 202 }))
    const sent = await httpMailTransport({ url: ENDPOINT, token: 't0ken' }).send(message)
    expect(sent.messageId).toBe('prov-42')
    expect(seen).toHaveLength(1)
    expect(seen[0]!.auth).toBe('Bearer t0ken')
    expect(seen[0]!.type).toBe('application/json')
    expect(seen[0]!.body).toEqual({
      from: 'ACME <no-reply@acme.test>',
      to: 'jeanne@example.test',
      subject: 'Confirmez – ACME ✓',
      html: '<p>Bonjour</p>',
      text: 'Bonjour',
      headers: {
        'X-Campaign-Id': 'c1',
        'List-Unsubscribe': '<https://gateway.test/u/t>, <mailto:u@acme.test>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    })
  })

  it('sends no Authorization without a token, and makes up a Message-ID when none comes back', async () => {
    const seen = capture(() => new HttpResponse(null, { status: 204 }))
    const { listUnsubscribe: _l, headers: _h, ...plain } = message
    const sent = await httpMailTransport({ url: ENDPOINT }).send(plain)
    expect(seen[0]!.auth).toBeNull()
    expect((seen[0]!.body as { headers: object }).headers).toEqual({})
    expect(sent.messageId).toMatch(/^<[0-9a-f-]{36}@acme\.test>$/)
  })

  it('takes messageId from the answer too', async () => {
    capture(() => HttpResponse.json({ messageId: '<abc@provider>' }))
    expect((await httpMailTransport({ url: ENDPOINT }).send(message)).messageId).toBe(
      '<abc@provider>',
    )
  })

  it('rejects on a non-2xx answer, so that the outbox retries', async () => {
    capture(() => HttpResponse.json({ error: 'down' }, { status: 500 }))
    await expect(httpMailTransport({ url: ENDPOINT }).send(message)).rejects.toThrow(
      'mail http: https://mail-api.test answered 500',
    )
  })

  it('rejects on a network error', async () => {
    server.use(http.post(ENDPOINT, () => HttpResponse.error()))
    await expect(httpMailTransport({ url: ENDPOINT }).send(message)).rejects.toThrow(
      /cannot reach https:\/\/mail-api\.test/,
    )
  })

  it('rejects when the endpoint does not answer in time', async () => {
    server.use(
      http.post(ENDPOINT, async () => {
        await delay(1_000)
        return HttpResponse.json({ id: 'late' })
      }),
    )
    await expect(httpMailTransport({ url: ENDPOINT, timeoutMs: 50 }).send(message)).rejects.toThrow(
      'mail http: no answer from https://mail-api.test within 50 ms',
    )
  })

  it('is what nodeMailTransport builds for MAIL_TRANSPORT=http', async () => {
    const seen = capture(() => HttpResponse.json({ id: 'x' }))
    const config = parseConfig({
      MAIL_TRANSPORT: 'http',
      MAIL_HTTP_URL: ENDPOINT,
      MAIL_HTTP_TOKEN: 'abc',
    })
    const transport = nodeMailTransport(config)
    expect(transport.name).toBe('http')
    await transport.send(message)
    expect(seen[0]!.auth).toBe('Bearer abc')
  })
})
