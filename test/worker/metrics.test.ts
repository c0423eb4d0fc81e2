// GET /metrics on Workers/D1: served by the Worker itself (METRICS=1, an admin key), read from D1,
// so a second environment object (another isolate's deps, with nothing counted in memory) serves the
// same figures; a gate refusal made through the Worker is counted after the response (waitUntil).
import { createExecutionContext, env, waitOnExecutionContext } from 'cloudflare:test'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import worker from '../../src/worker.ts'

const ENV = { ...env, METRICS: '1' }

async function call(e: typeof env, path: string, init: RequestInit) {
  const ctx = createExecutionContext()
  const res = await worker.fetch(
    new Request(`https://gateway.test${path}`, init) as Request<
      unknown,
      IncomingRequestCfProperties
    >,
    e,
    ctx,
  )
  await waitOnExecutionContext(ctx)
  return res
}

describe('GET /metrics on Workers', () => {
  it('counts a gate refusal in D1 and serves it to any isolate, admin key only', async () => {
    const { deps } = await forEnv(ENV)
    const created = await createApiKey(deps, { name: 'prometheus', scopes: ['admin', 'gate'] })
    if (!created.ok) throw new Error(created.error)
    const auth = { Authorization: `Bearer ${created.key}` }

    const gate = await call(ENV, '/api/v1/gate', {
      method: 'POST',
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: 'nobody@exemple.fr' }] }),
    })
    expect(gate.status).toBe(200)

    expect((await call(ENV, '/metrics', {})).status).toBe(401)
    const res = await call({ ...ENV }, '/metrics', { headers: auth })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('version=0.0.4')
    const families = parsePrometheusTextFormat(await res.text())
    const refusals = families.find((f) => f.name === 'consent_gateway_gate_refusals_total')
    expect(refusals?.metrics).toContainEqual({
      labels: { place: 'gate_api', purpose: 'newsletter', reason: 'unknown_contact' },
      value: '1',
    })
    expect(families.find((f) => f.name === 'consent_gateway_outbox_pending')?.metrics).toEqual([
      { value: '0' },
    ])

    // Off without METRICS=1: the Worker answers as for any unknown path.
    expect(
      (await call({ ...env, METRICS: '0' } as typeof env, '/metrics', { headers: auth })).status,
    ).toBe(404)
  })
})
