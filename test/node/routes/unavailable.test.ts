// The app served while the configuration is wrong (src/routes/unavailable.ts), on Node; the Workers
// entry serves it for a bad environment (test/worker/configuration.test.ts).
import { describe, expect, it } from 'vitest'
import { configurationErrorApp } from '../../../src/routes/unavailable.ts'

describe('configuration error app', () => {
  const app = configurationErrorApp([
    'MAIL_TRANSPORT must be one of log, smtp, mautic, http, got "x"',
  ])

  it('answers /healthz 503 with the problems', async () => {
    const res = await app.request('/healthz')
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      status: 'unavailable',
      error: {
        code: 'configuration_error',
        message: 'The gateway is not configured correctly',
        problems: ['MAIL_TRANSPORT must be one of log, smtp, mautic, http, got "x"'],
      },
    })
  })

  it('answers pages with a 503 page in the visitor’s language, with security headers', async () => {
    const fr = await app.request('/privacy', { headers: { 'Accept-Language': 'fr-FR' } })
    expect(fr.status).toBe(503)
    expect(fr.headers.get('retry-after')).toBe('300')
    expect(fr.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await fr.text()).toContain('Service indisponible')
    const api = await app.request('/hooks/mautic', { method: 'POST' })
    expect(api.status).toBe(503)
    expect(((await api.json()) as any).error.code).toBe('configuration_error')
  })
})
