// The gate on D1: one query per batch (json_each over bound JSON arrays), the same answers as one
// reference at a time, in input order, also during a key rotation (two blind indexes per address).
import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import type { Deps } from '../../src/deps.ts'
import { gateBatch, type ContactRef } from '../../src/domain/sending/gate.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { blindIndexes } from '../../src/lib/email.ts'
import { deriveKeys } from '../../src/lib/keys.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'

const CONSENT = {
  locale: 'fr',
  method: 'api',
  source: 'test',
  actor: 'api:test',
  evidence: {},
} as const
const run = (sql: string, ...params: unknown[]) =>
  env.DB.prepare(sql)
    .bind(...params)
    .run()

async function add(deps: Deps, email: string, status: string | null) {
  const r = await subscribe(deps, { ...CONSENT, email, purposes: ['newsletter'] })
  if (!r.ok) throw new Error(r.message)
  if (status)
    await run(
      "UPDATE consent_state SET status = ?, granted_at = ? WHERE contact_id = ? AND purpose_key = 'newsletter'",
      status,
      Date.now(),
      r.contactId,
    )
  return r.contactId
}

async function one(deps: Deps, ref: ContactRef) {
  const r = await gateBatch(deps, 'newsletter', [ref])
  if (!r.ok) throw new Error(r.message)
  return r.decisions[0]
}

const decision = (reason: string | null) => ({ allowed: reason === null, reason })

describe('the gate on D1', () => {
  it('answers a mixed batch in input order, as one reference at a time', async () => {
    const { deps } = await forEnv(env)
    const granted = await add(deps, 'd1-granted@exemple.fr', 'granted')
    const objected = await add(deps, 'd1-objected@exemple.fr', 'granted')
    await add(deps, 'd1-pending@exemple.fr', null)
    await run('UPDATE contacts SET objected_at = 1 WHERE id = ?', objected)
    await run(
      "INSERT INTO contact_links (system, external_id, contact_id, linked_at) VALUES ('mautic', 'd1-7', ?, 0)",
      granted,
    )
    for (const bidx of await blindIndexes(deps.hmac, deps.keys, 'd1-gone@exemple.fr'))
      await run(
        "INSERT INTO suppressions (email_bidx, bidx_kid, reason, created_at) VALUES (?, 'k', 'erased', 0)",
        bidx,
      )
    const refs: ContactRef[] = [
      { email: 'D1-Granted@exemple.fr' },
      { mautic_id: 'd1-7' },
      { contact_id: objected },
      { email: 'd1-pending@exemple.fr' },
      { email: 'd1-gone@exemple.fr' },
      { email: 'not an address' },
      { mautic_id: 'd1-8' },
      { contact_id: granted },
      { email: 'd1-nobody@exemple.fr' },
    ]
    const expected = [
      decision(null),
      decision(null),
      decision('objected'),
      decision('pending_confirmation'),
      decision('suppressed'),
      decision('unknown_contact'),
      decision('unknown_contact'),
      decision(null),
      decision('unknown_contact'),
    ]
    expect(await gateBatch(deps, 'newsletter', refs)).toEqual({ ok: true, decisions: expected })
    const singles = []
    for (const ref of refs) singles.push(await one(deps, ref))
    expect(singles).toEqual(expected)
  })

  it('finds an address under the previous key during a rotation', async () => {
    const { deps } = await forEnv(env)
    await add(deps, 'd1-old@exemple.fr', 'granted')
    const rotated: Deps = {
      ...deps,
      keys: await deriveKeys(`${env.APP_SECRET}-rotated`, env.APP_SECRET),
    }
    await add(rotated, 'd1-new@exemple.fr', 'granted')
    const refs = [{ email: 'd1-old@exemple.fr' }, { email: 'd1-new@exemple.fr' }]
    expect(await gateBatch(rotated, 'newsletter', refs)).toEqual({
      ok: true,
      decisions: [decision(null), decision(null)],
    })
    expect(await one(rotated, refs[0]!)).toEqual(decision(null))
    // Under the new key alone, the old address is no longer found.
    expect(
      await one({ ...rotated, keys: await deriveKeys(`${env.APP_SECRET}-rotated`) }, refs[0]!),
    ).toEqual(decision('unknown_contact'))
  })
})
