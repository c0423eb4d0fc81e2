// A wrong configuration on Workers (src/runtime/worker/deps.ts, src/routes/unavailable.ts): /healthz
// answers 503 with the reasons (never a secret), every page a clear "unavailable" in the visitor's
// language, the API a 503 error; the cron trigger does nothing. And production, the Workers default,
// refuses MAIL_TRANSPORT=log (it would send no confirmation mail).
import {
  createExecutionContext,
  createScheduledController,
  env,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import worker from '../../src/worker.ts'

async function fetchWith(
  vars: Record<string, string | undefined>,
  path: string,
  init?: RequestInit,
) {
  const ctx = createExecutionContext()
  const res = await worker.fetch(
    new Request(`https://gateway.test${path}`, init) as Request<
      unknown,
      IncomingRequestCfProperties
    >,
    { ...env, ...vars } as typeof env,
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return res
}

describe('Workers with a wrong configuration', () => {
  it('refuses the log transport in production, the default, naming the transports that send', async () => {
    // wrangler.toml's [vars] without .dev.vars: production, and here log.
    const vars = { NODE_ENV: undefined, MAIL_TRANSPORT: 'log' }
    const res = await fetchWith(vars, '/healthz')
    expect(res.status).toBe(503)
    const body = (await res.json()) as any
    expect(body).toMatchObject({ status: 'unavailable', error: { code: 'configuration_error' } })
    expect(body.error.problems).toEqual([
      expect.stringMatching(/^MAIL_TRANSPORT=log sends no e-mail.*http.*mautic/),
    ])
    expect(JSON.stringify(body)).not.toContain(env.APP_SECRET)
  })

  it('answers 503 everywhere with a page in the visitor’s language, and a JSON error on the API', async () => {
    const vars = { MAIL_TRANSPORT: 'smtp', SMTP_URL: 'smtp://user:hunter2@mail.test:587' }
    const health = (await (await fetchWith(vars, '/healthz')).json()) as any
    expect(health.error.problems).toEqual([
      expect.stringMatching(/MAIL_TRANSPORT=smtp is not available on Cloudflare Workers/),
    ])
    expect(JSON.stringify(health)).not.toContain('hunter2')
    const page = await fetchWith(vars, '/subscribe/default', {
      headers: { 'Accept-Language': 'fr' },
    })
    expect(page.status).toBe(503)
    expect(page.headers.get('content-type')).toContain('text/html')
    const html = await page.text()
    expect(html).toContain('<html lang="fr">')
    expect(html).toContain('Service indisponible')
    const en = await fetchWith(vars, '/p/some-token', { headers: { 'Accept-Language': 'en' } })
    expect(await en.text()).toContain('Service unavailable')
    const api = await fetchWith(vars, '/api/v1/gate', { method: 'POST', body: '{}' })
    expect(api.status).toBe(503)
    expect(((await api.json()) as any).error.code).toBe('configuration_error')
    // The cron trigger has nothing to run with: it returns quietly.
    const ctx = createExecutionContext()
    await worker.scheduled(
      createScheduledController({ cron: '* * * * *' }),
      { ...env, ...vars } as typeof env,
      ctx,
    )
    await waitOnExecutionContext(ctx)
  })
})
