// Outbox delivery after a commit on Workers: one pass at a time per isolate
// (src/runtime/worker/outbox-wake.ts).
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { forEnv } from '../../src/runtime/worker/deps.ts'

/** A request's execution context that keeps what it is asked to wait for. */
function context() {
  const waited: Promise<unknown>[] = []
  return { waited, ctx: { waitUntil: (p: Promise<unknown>) => void waited.push(p) } }
}

describe('outbox delivery on Workers', () => {
  it('runs one pass at a time however many requests wake it', async () => {
    const { deps } = await forEnv(env)
    const { waited, ctx } = context()
    for (let i = 0; i < 20; i++) deps.wakeOutbox(() => ctx)
    expect(waited).toHaveLength(1)
    await Promise.all(waited)
    // Once over, the next wake starts a pass again.
    deps.wakeOutbox(() => ctx)
    expect(waited).toHaveLength(2)
    await Promise.all(waited)
  })
})
