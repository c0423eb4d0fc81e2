// The app's request steps as one (src/middleware/in-sequence.ts) and the OpenAPI description that
// passes straight on (src/routes/api/describe-route.ts), on a real Hono app.
import { Hono, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { generateSpecs } from 'hono-openapi'
import { describe, expect, it } from 'vitest'
import { inSequence } from '../../../src/middleware/in-sequence.ts'
import { describeRoute } from '../../../src/routes/api/describe-route.ts'

function recordingApp(steps: MiddlewareHandler[], seen: string[]) {
  const app = new Hono()
  app.use(inSequence(...steps))
  app.post('/x', (c) => (seen.push('handler'), c.text('handled')))
  app.onError((err, c) =>
    c.text(`error: ${err.message}`, err instanceof HTTPException ? err.status : 500),
  )
  return app
}

const step =
  (name: string, seen: string[]): MiddlewareHandler =>
  (c, next) => {
    seen.push(`${name} in`)
    return next().then(() => void seen.push(`${name} out`))
  }

describe('inSequence', () => {
  it('runs its steps in order around the handler, as separate app.use calls would', async () => {
    const seen: string[] = []
    const res = await recordingApp([step('a', seen), step('b', seen)], seen).request('/x', {
      method: 'POST',
    })
    expect(await res.text()).toBe('handled')
    expect(seen).toEqual(['a in', 'b in', 'handler', 'b out', 'a out'])
  })

  it('ends the chain with the Response of a step that does not call next', async () => {
    const seen: string[] = []
    const refuse: MiddlewareHandler = async (c) => c.text('too large', 413)
    const res = await recordingApp([step('a', seen), refuse, step('b', seen)], seen).request('/x', {
      method: 'POST',
    })
    expect(res.status).toBe(413)
    expect(await res.text()).toBe('too large')
    expect(seen).toEqual(['a in', 'a out'])
  })

  it("hands what a step throws to the app's onError", async () => {
    const seen: string[] = []
    const forbid: MiddlewareHandler = () => {
      throw new HTTPException(403, { message: 'Forbidden' })
    }
    const res = await recordingApp([forbid, step('b', seen)], seen).request('/x', {
      method: 'POST',
    })
    expect(res.status).toBe(403)
    expect(await res.text()).toBe('error: Forbidden')
    expect(seen).toEqual([])
  })
})

describe('describeRoute', () => {
  it('passes on without a promise of its own and still describes the route', async () => {
    const described = describeRoute({ summary: 'May this mail go?' })
    const passed = Promise.resolve()
    // The very promise next() returned: no async wrapper around it.
    expect(described({} as never, () => passed)).toBe(passed)
    const app = new Hono().post('/gate', described, (c) => c.json({ ok: true }))
    expect((await app.request('/gate', { method: 'POST' })).status).toBe(200)
    const spec = await generateSpecs(app)
    expect(spec.paths?.['/gate']?.post?.summary).toBe('May this mail go?')
  })
})
