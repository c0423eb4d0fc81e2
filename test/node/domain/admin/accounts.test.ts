// One-time links (they work once, even when two requests race, and expire) and the purge of ended sessions.
import { describe, expect, it } from 'vitest'
import {
  completeSetupPassword,
  createAccount,
  firstOwnerLink,
  openSetup,
  SETUP_LINK_TTL_MS,
} from '../../../../src/domain/admin/accounts.ts'
import { purgeEndedSessions, SESSION_ABSOLUTE_MS } from '../../../../src/domain/admin/sessions.ts'
import { STRONG_PASSWORD, TEST_ITERATIONS, makeAdmin, signIn } from '../../../helpers/admin.ts'
import { testApp, testDeps } from '../../../helpers/deps.ts'

const input = { password: STRONG_PASSWORD, confirm: STRONG_PASSWORD, locale: 'en' as const }
const tokenOf = (url: string) => new URL(url).searchParams.get('token')!

describe('one-time set-up links', () => {
  it('work once, even when two requests race with the same link', async () => {
    const { deps } = await testDeps({}, { pbkdf2Iterations: TEST_ITERATIONS })
    const made = await createAccount(
      deps,
      { email: 'a@staff.example', role: 'admin', mail: false },
      { actor: 'cli' },
    )
    if (!made.ok) throw new Error(made.error)
    const access = await openSetup(deps, tokenOf(made.url), undefined)
    if (!access.ok) throw new Error(access.reason)
    const results = await Promise.all([
      completeSetupPassword(deps, access, input, { actor: 'anonymous' }),
      completeSetupPassword(deps, access, input, { actor: 'anonymous' }),
    ])
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    expect(results.find((r) => !r.ok)).toEqual({ ok: false, error: 'link_used' })
    expect(await openSetup(deps, tokenOf(made.url), undefined)).toEqual({
      ok: false,
      reason: 'used',
    })
  })

  it("expire; the first owner's link stops working once an owner exists", async () => {
    const { deps, clock } = await testDeps({}, { pbkdf2Iterations: TEST_ITERATIONS })
    const first = await firstOwnerLink(deps, { actor: 'system' })
    const second = await firstOwnerLink(deps, { actor: 'system' })
    clock.advance(SETUP_LINK_TTL_MS)
    expect(await openSetup(deps, tokenOf(first!), undefined)).toEqual({
      ok: false,
      reason: 'expired',
    })
    clock.advance(-1)
    const access = await openSetup(deps, tokenOf(second!), undefined)
    expect(access).toMatchObject({ ok: true, kind: 'first-owner' })
    const r = await completeSetupPassword(
      deps,
      access as Extract<typeof access, { ok: true }>,
      { ...input, email: 'Boss@Staff.example' },
      { actor: 'anonymous' },
    )
    expect(r).toMatchObject({ ok: true, user: { role: 'owner', status: 'active' } })
    expect(await firstOwnerLink(deps, { actor: 'system' })).toBeNull()
    expect(await openSetup(deps, 'x'.repeat(43), 'a-setup-token-long-enough')).toEqual({
      ok: false,
      reason: 'invalid',
    })
    expect(await openSetup(deps, 'a-setup-token-long-enough', 'a-setup-token-long-enough')).toEqual(
      { ok: false, reason: 'owner-exists' },
    )
  })
})

describe('ended sessions', () => {
  it('are deleted a day after their absolute limit; live ones stay', async () => {
    const { app, deps, sqlite, clock } = await testApp({}, { pbkdf2Iterations: TEST_ITERATIONS })
    const owner = await makeAdmin(deps, 'owner')
    await signIn(app, deps, owner)
    const count = () => sqlite.prepare('SELECT COUNT(*) FROM sessions').pluck().get() as number
    const before = count()
    expect(before).toBeGreaterThan(0)
    await purgeEndedSessions(deps)
    expect(count()).toBe(before)
    clock.advance(SESSION_ABSOLUTE_MS + 24 * 60 * 60_000 + 1000)
    await purgeEndedSessions(deps)
    expect(count()).toBe(0)
  })
})
