// The gate on a real database: every reason by contact id, by address and by Mautic id, one at a time
// and in mixed batches (which take another query: both must agree, in input order), and during a
// key rotation, when an address has two blind indexes.
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../../src/config.ts'
import type { Deps } from '../../../../src/deps.ts'
import { eraseContact } from '../../../../src/domain/rights/erasure.ts'
import { gateBatch, type ContactRef } from '../../../../src/domain/sending/gate.ts'
import { invalidatePurposes } from '../../../../src/domain/consent/purposes.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { blindIndexes } from '../../../../src/lib/email.ts'
import { jsonLogger } from '../../../../src/lib/log.ts'
import { nodeDeps } from '../../../../src/runtime/node/deps.ts'
import { API_CONSENT, TEST_NOW, TEST_SECRET, fixedClock, testDeps } from '../../../helpers/deps.ts'

const DAY = 86_400_000
const NEW_SECRET = `${TEST_SECRET}-rotated`

/** Contacts in every state the gate distinguishes, for `newsletter` (and `email_marketing`). */
async function world(t: Awaited<ReturnType<typeof testDeps>>) {
  const run = (sql: string, ...params: unknown[]) => t.sqlite.prepare(sql).run(...params)
  const add = async (email: string, purposes = ['newsletter']) => {
    const r = await subscribe(t.deps, { ...API_CONSENT, email, purposes })
    if (!r.ok) throw new Error(r.message)
    return r.contactId
  }
  const setState = (
    id: string,
    purpose: string,
    status: string,
    over: Record<string, unknown> = {},
  ) =>
    run(
      `UPDATE consent_state SET status = ?, granted_at = ?, notice_version = ?, notice_locale = ?
       WHERE contact_id = ? AND purpose_key = ?`,
      status,
      over.grantedAt ?? TEST_NOW - DAY,
      over.version ?? 1,
      over.locale ?? 'fr',
      id,
      purpose,
    )
  const suppress = async (email: string) => {
    for (const bidx of await blindIndexes(t.deps.hmac, t.deps.keys, email))
      run(
        "INSERT INTO suppressions (email_bidx, bidx_kid, reason, created_at) VALUES (?, ?, 'objected', 0)",
        bidx,
        t.deps.keys.current.kid,
      )
  }
  const ids: Record<string, string> = {}
  for (const name of ['granted', 'pending', 'withdrawn', 'expired', 'objected', 'listed', 'old-en'])
    ids[name] = await add(`${name}@exemple.fr`)
  ids.none = await add('none@exemple.fr', ['cookies'])
  ids.erased = await add('erased@exemple.fr')
  for (const name of ['granted', 'objected', 'listed', 'erased'])
    setState(ids[name]!, 'newsletter', 'granted')
  setState(ids.withdrawn!, 'newsletter', 'withdrawn')
  setState(ids.expired!, 'newsletter', 'expired')
  setState(ids['old-en']!, 'newsletter', 'granted', { locale: 'en' })
  run('UPDATE contacts SET objected_at = ? WHERE id = ?', TEST_NOW, ids.objected)
  await suppress('listed@exemple.fr') // an active contact whose address is on the list
  await suppress('gone@exemple.fr') // a suppressed address with no contact at all
  const erased = await eraseContact(t.deps, ids.erased!, {
    suppress: 'erased',
    method: 'erasure_request',
    source: 'test',
    actor: 'contact',
    deleteInMautic: false,
    passOnToRecipients: false,
  })
  expect(erased).toMatchObject({ ok: true })
  // English wording v2 asks for consent again: a grant under v1 in English is outdated.
  run(
    `INSERT INTO notices (id, purpose_key, locale, version, title, body, privacy_url, content_hash,
       requires_reconsent, published_at, created_at)
     VALUES ('n_newsletter_en_2', 'newsletter', 'en', 2, 'N', 'B', '', 'h', 1, 0, 0)`,
  )
  invalidatePurposes(t.deps.db)
  let mautic = 100
  for (const name of ['granted', 'objected', 'erased'])
    run(
      "INSERT INTO contact_links (system, external_id, contact_id, linked_at) VALUES ('mautic', ?, ?, 0)",
      String(++mautic),
      ids[name],
    )
  return ids
}

const EXPECTED: [name: string, reason: string | null][] = [
  ['granted', null],
  ['pending', 'pending_confirmation'],
  ['withdrawn', 'withdrawn'],
  ['expired', 'expired'],
  ['none', 'no_consent'],
  ['objected', 'objected'],
  ['listed', 'suppressed'],
  ['erased', 'suppressed'],
  ['old-en', 'notice_outdated'],
]
const MAUTIC: [string | number, string | null][] = [
  [101, null],
  ['102', 'objected'],
  ['103', 'suppressed'],
  ['999', 'unknown_contact'],
]

const decision = (reason: string | null) => ({ allowed: reason === null, reason })

async function decideOne(deps: Deps, ref: ContactRef, purpose = 'newsletter') {
  const r = await gateBatch(deps, purpose, [ref])
  if (!r.ok) throw new Error(r.message)
  return r.decisions[0]
}

describe('the gate on a real database', () => {
  it('gives every reason by contact id, by address and by Mautic id, one reference at a time', async () => {
    const t = await testDeps()
    const ids = await world(t)
    for (const [name, reason] of EXPECTED) {
      expect([name, await decideOne(t.deps, { contact_id: ids[name]! })]).toEqual([
        name,
        decision(reason),
      ])
      expect([
        name,
        await decideOne(t.deps, { email: ` ${name.toUpperCase()}@Exemple.fr` }),
      ]).toEqual([name, decision(reason)])
    }
    for (const [id, reason] of MAUTIC)
      expect([id, await decideOne(t.deps, { mautic_id: id })]).toEqual([id, decision(reason)])
    expect(await decideOne(t.deps, { contact_id: crypto.randomUUID() })).toEqual(
      decision('unknown_contact'),
    )
    expect(await decideOne(t.deps, { email: 'nobody@exemple.fr' })).toEqual(
      decision('unknown_contact'),
    )
    expect(await decideOne(t.deps, { email: 'gone@exemple.fr' })).toEqual(decision('suppressed'))
    expect(await decideOne(t.deps, { email: 'not an address' })).toEqual(
      decision('unknown_contact'),
    )
  })

  it('answers a mixed batch in input order, exactly as one reference at a time', async () => {
    const t = await testDeps()
    const ids = await world(t)
    const refs: ContactRef[] = [
      ...EXPECTED.flatMap(([name]): ContactRef[] => [
        { email: `${name}@exemple.fr` },
        { contact_id: ids[name]! },
      ]),
      ...MAUTIC.map(([id]) => ({ mautic_id: id })),
      { email: 'gone@exemple.fr' },
      { email: 'nobody@exemple.fr' },
      { email: '@' },
      { contact_id: 'no-such-contact' },
      { email: 'granted@exemple.fr' }, // the same contact again, by every kind
      { mautic_id: '101' },
      { contact_id: ids.granted! },
    ]
    // A deterministic shuffle, so that kinds interleave.
    const mixed = refs
      .map((r, i) => [(i * 7919) % refs.length, r] as const)
      .sort((a, b) => a[0] - b[0])
    const batch = mixed.map(([, r]) => r)
    const one = await Promise.all(batch.map((r) => decideOne(t.deps, r)))
    expect(await gateBatch(t.deps, 'newsletter', batch)).toEqual({ ok: true, decisions: one })
    expect(one.filter((d) => d?.allowed)).toHaveLength(6)
  })

  it('reads the time, version and locale of each grant (maximum consent age)', async () => {
    const t = await testDeps()
    t.sqlite
      .prepare("UPDATE purposes SET max_consent_age_days = 30 WHERE key = 'email_marketing'")
      .run()
    const ids: string[] = []
    for (const age of [29, 31]) {
      const r = await subscribe(t.deps, {
        ...API_CONSENT,
        email: `d${age}@exemple.fr`,
        purposes: ['email_marketing'],
      })
      if (!r.ok) throw new Error(r.message)
      t.sqlite
        .prepare("UPDATE consent_state SET status = 'granted', granted_at = ? WHERE contact_id = ?")
        .run(TEST_NOW - age * DAY, r.contactId)
      ids.push(r.contactId)
    }
    const refs = [
      ...ids.map((id) => ({ contact_id: id })),
      { email: 'd29@exemple.fr' },
      { email: 'd31@exemple.fr' },
    ]
    const expected = [decision(null), decision('expired'), decision(null), decision('expired')]
    expect(await gateBatch(t.deps, 'email_marketing', refs)).toEqual({
      ok: true,
      decisions: expected,
    })
    expect(await Promise.all(refs.map((r) => decideOne(t.deps, r, 'email_marketing')))).toEqual(
      expected,
    )
  })

  it('refuses an unknown purpose', async () => {
    const t = await testDeps()
    expect(await gateBatch(t.deps, 'nope', [{ contact_id: 'x' }])).toMatchObject({
      ok: false,
      code: 'unknown_purpose',
    })
    expect(
      await gateBatch(t.deps, 'nope', [{ email: 'a@exemple.fr' }, { mautic_id: 1 }]),
    ).toMatchObject({
      ok: false,
    })
  })
})

describe('the gate during a key rotation', () => {
  it('finds contacts and suppressions written under either key, by address, alone or in a batch', async () => {
    const t = await testDeps()
    const ids = await world(t) // written under TEST_SECRET
    const rotated = await nodeDeps({
      config: {
        ...parseConfig({
          APP_SECRET: NEW_SECRET,
          APP_SECRET_PREVIOUS: TEST_SECRET,
          PUBLIC_URL: 'http://gateway.test',
        }),
        appSecret: NEW_SECRET,
      },
      sqlite: t.sqlite,
      clock: fixedClock(),
      logger: jsonLogger(() => {}),
    })
    const fresh = await subscribe(rotated, {
      ...API_CONSENT,
      email: 'fresh@exemple.fr',
      purposes: ['newsletter'],
    })
    if (!fresh.ok) throw new Error(fresh.message)
    const refs: ContactRef[] = [
      ...EXPECTED.map(([name]) => ({ email: `${name}@exemple.fr` })),
      { email: 'gone@exemple.fr' },
      { email: 'fresh@exemple.fr' },
      { email: 'nobody@exemple.fr' },
      { contact_id: ids.granted! },
    ]
    const expected = [
      ...EXPECTED.map(([, reason]) => decision(reason)),
      decision('suppressed'),
      decision('pending_confirmation'),
      decision('unknown_contact'),
      decision(null),
    ]
    expect(await gateBatch(rotated, 'newsletter', refs)).toEqual({ ok: true, decisions: expected })
    expect(await Promise.all(refs.map((r) => decideOne(rotated, r)))).toEqual(expected)
  })
})
