// RFC 8058 one-click unsubscribe and /api/v1/send on Workers/D1.
import { env, SELF } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { unsubscribeUrl } from '../../src/domain/sending/links.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'

describe('withdrawal on D1', () => {
  it('a one-click POST withdraws at once (200, no redirect, no cookie) and /api/v1/send then blocks', async () => {
    const { deps } = await forEnv(env)
    const created = await createApiKey(deps, { name: 'w-send', scopes: ['subscribe', 'send'] })
    if (!created.ok) throw new Error(created.error)
    const call = async (path: string, body: unknown) => {
      const res = await SELF.fetch(`https://gateway.test${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${created.key}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: res.status, body: (await res.json()) as Record<string, any> }
    }
    const sub = await call('/api/v1/subscriptions', {
      email: 'w.unsub@exemple.fr',
      purposes: ['push_notifications'],
    })
    const mail = {
      purpose: 'push_notifications',
      to: 'w.unsub@exemple.fr',
      subject: 'Offre',
      text: 'Bonjour',
    }
    expect((await call('/api/v1/send', mail)).body).toMatchObject({ status: 'queued' })

    const url = await unsubscribeUrl(deps, sub.body.contact_id, 'push_notifications')
    const res = await SELF.fetch(url, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      redirect: 'manual',
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    expect(res.headers.get('set-cookie')).toBeNull()
    expect((await call('/api/v1/send', mail)).body).toEqual({
      status: 'blocked',
      reason: 'withdrawn',
    })
  })
})
