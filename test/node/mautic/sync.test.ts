// `consent-gateway mautic sync` in-process (msw cannot reach a child process) against the stateful
// fake of Mautic's REST API: links, no_proof findings, the CSV report, imported blocks, re-runs.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'
import { mauticCli } from '../../helpers/cli.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { blindIndexes } from '../../../src/lib/email.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { csvCell } from '../../../src/mautic/sync.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { confirmedSubscription } from '../../helpers/consent.ts'
import { API_CONSENT, drainOutbox, TEST_NOW, testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'

const mautic = useMautic('https://mautic.test')
const HOUR = 3_600_000

async function setup(mode: 'observe' | 'enforce' = 'observe') {
  const t = await testApp(
    { ...mautic.env, MIRROR_MODE: mode },
    { mautic: createMauticClient(mautic.connection, { sleep: async () => {} }) },
  )
  // What `mautic connect` creates: Mautic drops writes to fields that do not exist.
  for (const key of ['email_marketing', 'newsletter', 'push_notifications'])
    mautic.addField({ alias: `consent_${key}`, type: 'boolean' })
  mautic.addField({ alias: 'consent_preferences_url', type: 'url' })
  const run = mauticCli(t.deps)
  const rows = (sql: string, ...params: unknown[]) => t.sqlite.prepare(sql).all(...params) as any[]
  const drain = () => drainOutbox(t.deps)
  const links = () =>
    rows('SELECT external_id AS m, contact_id AS c FROM contact_links ORDER BY CAST(m AS INTEGER)')
  const findings = () =>
    rows(
      "SELECT mautic_id AS m, contact_id AS c, details FROM compliance_findings WHERE kind = 'no_proof' ORDER BY CAST(m AS INTEGER)",
    )
  const mauticWrites = () =>
    mautic.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/'))
  return { ...t, run, rows, drain, links, findings, mauticWrites }
}

const reportPath = () => join(mkdtempSync(join(tmpdir(), 'cg-sync-')), 'no-proof.csv')

describe('consent-gateway mautic sync', () => {
  it('links every contact with an address, records no_proof findings once, and writes nothing to Mautic in observe mode', async () => {
    const t = await setup()
    const anne = await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    const bob = await subscribe(t.deps, {
      ...API_CONSENT,
      email: 'bob@exemple.fr',
      purposes: ['cookies'],
    })
    if (!bob.ok) throw new Error(bob.message)
    const m1 = mautic.addContact({ email: 'anne@exemple.fr', tags: ['consent_newsletter'] })
    // Mautic's own "consent" says nothing: no proof behind it.
    const m2 = mautic.addContact({
      email: 'Paul@Exemple.fr',
      fields: { firstname: 'Paul', consent_newsletter: 1 },
      tags: ['consent_newsletter'],
    })
    mautic.addContact({ email: null, fields: { firstname: 'Anonymous' } })
    const m4 = mautic.addContact({ email: 'bob@exemple.fr' })
    const m5 = mautic.addContact({ email: 'ANNE@exemple.fr' }) // a second Mautic contact, same person

    const first = await t.run('sync')
    expect(first.code).toBe(0)
    expect(first.stdout).toBe('')
    expect(first.stderr).toContain('5 contacts seen; 1 without a valid e-mail address')
    expect(first.stderr).toContain('1 created, 3 linked to an existing one, 0 already linked')
    expect(first.stderr).toContain('With proof of e-mail consent: 2; without proof: 2')
    expect(first.stderr).toContain('MIRROR_MODE=observe: nothing was written to Mautic')

    const paul = t.rows(
      'SELECT id, email_enc, attributes_enc FROM contacts WHERE id NOT IN (?, ?)',
      anne,
      bob.contactId,
    )
    expect(paul).toHaveLength(1)
    // Created encrypted, like the webhook path: no address or name in clear at rest.
    expect(JSON.stringify(paul)).not.toMatch(/paul/i)
    expect(t.links()).toEqual([
      { m: String(m1.id), c: anne },
      { m: String(m2.id), c: paul[0].id },
      { m: String(m4.id), c: bob.contactId },
      { m: String(m5.id), c: anne },
    ])
    expect(t.findings()).toEqual([
      {
        m: String(m2.id),
        c: paul[0].id,
        details: JSON.stringify({ source: 'mautic_sync', dnc: 'none' }),
      },
      {
        m: String(m4.id),
        c: bob.contactId,
        details: JSON.stringify({ source: 'mautic_sync', dnc: 'none' }),
      },
    ])
    // Never treated as consenting: the gate refuses Paul whatever Mautic's field and tag say.
    const client = api(t.app, await apiKey(t.deps, ['gate']))
    expect(await client.gate('newsletter', [{ mautic_id: m2.id }, { mautic_id: m5.id }])).toEqual([
      { mautic_id: m2.id, allowed: false, reason: 'no_consent' },
      { mautic_id: m5.id, allowed: true, reason: null },
    ])
    expect(t.mauticWrites()).toEqual([])
    expect(t.rows("SELECT count(*) AS n FROM outbox WHERE kind = 'mautic.mirror'")[0].n).toBe(0)

    const second = await t.run('sync')
    expect(second.code).toBe(0)
    expect(second.stderr).toContain('0 created, 0 linked to an existing one, 4 already linked')
    expect(second.stderr).toContain('(0 new no_proof findings)')
    expect(t.findings()).toHaveLength(2)
    expect(t.rows('SELECT count(*) AS n FROM contacts')[0].n).toBe(3)
    expect(t.links()).toHaveLength(4)
  })

  it('writes the contacts without proof as CSV (mode 0600, formula guard), and never lists an erased person', async () => {
    const t = await setup()
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter'])
    mautic.addContact({ email: 'anne@exemple.fr' })
    const m2 = mautic.addContact({ email: '=1+1@exemple.fr' })
    const m3 = mautic.addContact({
      email: '-2+3@exemple.fr',
      dnc: [{ reason: 1, comments: 'User unsubscribed.' }],
    })
    const m4 = mautic.addContact({ email: '+promo@exemple.fr', dnc: [{ reason: 2 }] })
    const m5 = mautic.addContact({
      email: 'paul@exemple.fr',
      dnc: [{ reason: 3, comments: 'staff' }],
    })
    const m6 = mautic.addContact({
      email: 'marc@exemple.fr',
      dnc: [{ reason: 3, comments: 'consent-gateway: no valid consent for e-mail' }],
    })
    const zoe = mautic.addContact({ email: 'zoe@exemple.fr' })
    const [bidx] = await blindIndexes(t.deps.hmac, t.deps.keys, 'zoe@exemple.fr')
    t.sqlite
      .prepare("INSERT INTO suppressions VALUES (?, ?, 'erased', 0)")
      .run(bidx, t.deps.keys.current.kid)

    const file = reportPath()
    writeFileSync(file, 'stale', { mode: 0o644 }) // an existing file is made private too
    const res = await t.run('sync', '--report', file)
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('1 erased or objected were not imported')
    expect(res.stderr).toContain(`The 5 contacts without proof are in ${file} (mode 0600`)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readFileSync(file, 'utf8')).toBe(
      [
        'mautic_id,email,dnc',
        `${m2.id},"'=1+1@exemple.fr",none`,
        `${m3.id},"'-2+3@exemple.fr",unsubscribed`,
        `${m4.id},"'+promo@exemple.fr",bounced`,
        `${m5.id},paul@exemple.fr,manual`,
        `${m6.id},marc@exemple.fr,consent_gateway`,
        '',
      ].join('\r\n'),
    )
    expect(t.links().map((l) => l.m)).not.toContain(String(zoe.id))
    // The blocks the gateway did not write are remembered (own unsubscribe, staff DNC, bounce).
    expect(res.stderr).toContain('Do-Not-Contact entries imported: 3.')
  })

  it('quotes CSV cells (RFC 4180, and `;` for French spreadsheets) and guards formulas', () => {
    expect(csvCell('plain@exemple.fr')).toBe('plain@exemple.fr')
    expect(csvCell('a"b,c')).toBe('"a""b,c"')
    expect(csvCell('x;y')).toBe('"x;y"')
    expect(csvCell('two\r\nlines')).toBe('"two\r\nlines"')
    for (const formula of ['=HYPERLINK("x")', '+1', '-1', '@SUM(A1)', '\tcmd'])
      expect(csvCell(formula)).toBe(`"'${formula.replaceAll('"', '""')}"`)
  })

  it('imports a reason-1 DNC as a block: a grant older than the sync never lifts it, one confirmed after does', async () => {
    const t = await setup('enforce')
    await confirmedSubscription(t, 'anne@exemple.fr', ['newsletter']) // at TEST_NOW
    const m = mautic.addContact({
      email: 'anne@exemple.fr',
      dnc: [{ reason: 1, comments: 'User unsubscribed.', channelId: 3 }],
    })
    t.clock.advance(HOUR)
    const res = await t.run('sync')
    expect(res.code).toBe(0)
    expect(res.stderr).toContain('Do-Not-Contact entries imported: 1.')
    expect(res.stderr).toContain('MIRROR_MODE=enforce: 1 mirror updates queued')
    // Recorded by the sync itself, before any mirror ran: seen at the time of the sync.
    const memory = () =>
      t.rows('SELECT own_unsubscribe_at AS at FROM mautic_mirror WHERE mautic_id = ?', String(m.id))
    expect(memory()).toEqual([{ at: TEST_NOW + HOUR }])
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])
    expect(mautic.contact(m.id)!.tags).toContain('consent_newsletter')

    t.clock.advance(HOUR)
    expect((await t.run('sync')).code).toBe(0)
    expect(memory()).toEqual([{ at: TEST_NOW + HOUR }]) // the first sighting stays
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toMatchObject([{ reason: 1 }])

    // The person subscribes again, confirmed after the block was seen: that grant lifts it.
    t.clock.advance(HOUR)
    await confirmedSubscription(t, 'anne@exemple.fr', ['email_marketing'])
    await t.drain()
    expect(mautic.contact(m.id)!.dnc).toEqual([])
  })

  it('pages through Mautic 200 at a time; after a failure midway, a second run finishes without duplicates', async () => {
    const t = await setup('enforce')
    for (let i = 0; i < 203; i++) mautic.addContact({ email: `c${i}@exemple.fr` })
    mautic.server.use(
      http.get(`${mautic.baseUrl}/api/contacts`, ({ request }) =>
        new URL(request.url).searchParams.get('start') === '200'
          ? HttpResponse.json(
              { errors: [{ code: 500, message: 'Internal Server Error', details: [] }] },
              { status: 500 },
            )
          : undefined,
      ),
    )
    const file = reportPath()
    const failed = await t.run('sync', '--report', file)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toMatch(/Mautic failed on GET \/api\/contacts: 500/)
    expect(failed.stderr).toContain('run it again')
    expect(() => statSync(file)).toThrow() // no half-written list of addresses left behind
    expect(t.links()).toHaveLength(200)

    mautic.server.resetHandlers()
    const res = await t.run('sync', '--report', file)
    expect(res.code).toBe(0)
    const pages = mautic
      .calls('GET', '/api/contacts')
      .map((r) => `${r.query.get('start')}+${r.query.get('limit')}`)
    expect(pages.slice(-2)).toEqual(['0+200', '200+200'])
    expect(res.stderr).toContain('203 contacts seen')
    expect(res.stderr).toContain('3 created, 0 linked to an existing one, 200 already linked')
    expect(t.findings()).toHaveLength(203)
    expect(readFileSync(file, 'utf8').trimEnd().split('\r\n')).toHaveLength(204)
    // Enforce: one mirror per gateway contact and run (200 queued by the run that failed).
    expect(t.rows("SELECT count(*) AS n FROM outbox WHERE kind = 'mautic.mirror'")[0].n).toBe(403)
  })
})
