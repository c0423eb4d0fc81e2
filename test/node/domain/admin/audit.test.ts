// The audit log: every sign-in attempt and admin action, hash-chained; an edited, removed or cut
// entry is detected (the chain, and the signed checkpoints over its head).
import { describe, expect, it } from 'vitest'
import { recordAudit, verifyAuditChain } from '../../../../src/domain/admin/audit.ts'
import { verifyEverything } from '../../../../src/domain/admin/verify.ts'
import { maybeCheckpoint } from '../../../../src/domain/consent/checkpoints.ts'
import { browser, makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { testApp } from '../../../helpers/deps.ts'

const unlock = (sqlite: { exec(sql: string): unknown }) =>
  sqlite.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete')

describe('audit log', () => {
  it('records sign-in attempts and admin actions with who, what, target, when and where, never a secret', async () => {
    const { app, deps, sqlite } = await testApp({}, { pbkdf2Iterations: TEST_ITERATIONS })
    const owner = await makeAdmin(deps, 'owner')
    await browser(app).post(
      '/admin/sign-in',
      { email: owner.email, password: 'not the password at all' },
      { 'User-Agent': 'tests' },
    )
    const b = await signIn(app, deps, owner)
    await b.post('/admin/users/invite', {
      _csrf: await b.csrf('/admin/users'),
      email: 'new@staff.example',
      role: 'viewer',
    })
    const rows = sqlite.prepare('SELECT * FROM audit_log ORDER BY seq').all() as Record<
      string,
      unknown
    >[]
    const actions = rows.map((r) => `${r.action}:${r.outcome}`)
    expect(actions).toEqual(
      expect.arrayContaining([
        'signin.password:failed',
        'signin.password:ok',
        'signin.code:ok',
        'user.invite:ok',
      ]),
    )
    const failed = rows.find((r) => r.action === 'signin.password' && r.outcome === 'failed')!
    expect(failed).toMatchObject({
      actor: 'anonymous',
      target: `user:${owner.id}`,
      user_agent: 'tests',
    })
    const invite = rows.find((r) => r.action === 'user.invite')!
    expect(invite.actor).toBe(`admin:${owner.id}`)
    const all = JSON.stringify(rows)
    expect(all).not.toContain(owner.password)
    expect(all).not.toContain('not the password at all')
    for (const c of owner.recoveryCodes) expect(all).not.toContain(c)
    expect((await verifyAuditChain(deps)).ok).toBe(true)
  })

  it('is append-only in the database', async () => {
    const { deps, sqlite } = await testApp()
    await recordAudit(deps, { actor: 'cli', action: 'test' })
    expect(() => sqlite.exec("UPDATE audit_log SET action = 'x'")).toThrow(/append-only/)
    expect(() => sqlite.exec('DELETE FROM audit_log')).toThrow(/append-only/)
  })

  it('detects an edited entry, a removed one, and a cut tail (through the signed checkpoint)', async () => {
    const { deps, sqlite, clock } = await testApp()
    for (let i = 0; i < 5; i++)
      await recordAudit(deps, { actor: 'cli', action: `test.${i}`, target: `t:${i}` })
    expect(await verifyEverything(deps)).toMatchObject({ ok: true, audit: { entries: 5 } })
    clock.advance(120_000)
    await maybeCheckpoint(deps, true)
    unlock(sqlite)

    sqlite.exec("UPDATE audit_log SET target = 't:forged' WHERE seq = 3")
    const edited = await verifyAuditChain(deps)
    expect(edited.ok).toBe(false)
    expect(edited.problems[0]).toMatch(/audit entry 3: .*altered/)
    const full = await verifyEverything(deps)
    expect(full.ok).toBe(false)

    sqlite.exec("UPDATE audit_log SET target = 't:2' WHERE seq = 3")
    expect((await verifyAuditChain(deps)).ok).toBe(true)
    sqlite.exec('DELETE FROM audit_log WHERE seq = 5') // the tail: the chain alone cannot see it
    expect((await verifyAuditChain(deps)).ok).toBe(true)
    const cut = await verifyEverything(deps)
    expect(cut.ok).toBe(false)
    expect(cut.ledger.problems.join()).toMatch(/audit entry 5 is missing/)
  })
})
