// Proof for an authority: a bundle of 100,000 consent events (wording and evidence included) exported
// page by page, streamed, and verified offline with nothing but the JWKS (`consent-gateway
// verify-bundle`); a tampered bundle — an event altered, a line removed, a page cut off, another
// key — is refused.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Database as Sqlite } from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { ConsentEventRow } from '../../../../src/db/repositories/ledger.ts'
import { exportBundle } from '../../../../src/cli/compliance.ts'
import { verifyBundleCommand } from '../../../../src/cli/verify-bundle.ts'
import {
  bundleManifest,
  bundlePage,
  createProofBundle,
} from '../../../../src/domain/compliance/proof-bundle.ts'
import { eventHash, GENESIS_HASH } from '../../../../src/domain/consent/ledger.ts'
import { publishedJwks, rotateSigningKey } from '../../../../src/domain/consent/signing-keys.ts'
import { subscribe } from '../../../../src/domain/consent/subscriptions.ts'
import { eraseContact } from '../../../../src/domain/rights/erasure.ts'
import { sha256 } from '../../../../src/lib/sha256.ts'
import { api, apiKey } from '../../../helpers/api.ts'
import { API_CONSENT, TEST_NOW, testApp } from '../../../helpers/deps.ts'

const CHAINS = 20_000
const PER_CHAIN = 5

function io() {
  const out: string[] = []
  const err: string[] = []
  return {
    io: { out: async (s: string) => void out.push(s), err: (s: string) => void err.push(s) },
    out,
    err,
  }
}

/** `count` chains of `per` events each, hashed and linked as the ledger does, inserted in one go. */
async function bulkLedger(sqlite: Sqlite, count: number, per: number) {
  const contact = sqlite.prepare(
    "INSERT INTO contacts (id, locale, status, created_at, updated_at) VALUES (?, 'fr', 'active', ?, ?)",
  )
  const event = sqlite.prepare(
    `INSERT INTO consent_events (id, contact_id, seq, purpose_key, action, notice_id, method, source,
     evidence_enc, actor, occurred_at, recorded_at, prev_hash, hash)
     VALUES (@id, @contact_id, @seq, @purpose_key, @action, @notice_id, @method, @source,
     @evidence_enc, @actor, @occurred_at, @recorded_at, @prev_hash, @hash)`,
  )
  const rows: ConsentEventRow[] = []
  const base = TEST_NOW - 30 * 86_400_000
  for (let c = 0; c < count; c++) {
    const contactId = `00000000-0000-4000-8000-${String(c).padStart(12, '0')}`
    let prev = GENESIS_HASH
    for (let s = 1; s <= per; s++) {
      const purpose = s % 2 ? 'cookies' : 'behavioural_tracking'
      const e = {
        id: `${contactId.slice(0, 24)}${String(s).padStart(12, '0')}`,
        contact_id: contactId,
        seq: s,
        purpose_key: purpose,
        action: (s === per ? 'withdrawn' : 'granted') as 'granted' | 'withdrawn',
        notice_id: s === per ? null : `n_${purpose}_fr_1`,
        method: 'import',
        source: 'bulk',
        evidence_enc: null,
        actor: 'system',
        occurred_at: base + c * 60_000 + s,
        recorded_at: base + c * 60_000 + s,
        prev_hash: prev,
      }
      prev = await eventHash(e, sha256)
      rows.push({ ...e, hash: prev })
    }
  }
  sqlite.transaction(() => {
    for (let c = 0; c < count; c++) contact.run(rows[c * per]!.contact_id, base, base)
    for (const r of rows) event.run(r)
  })()
}

async function setup() {
  const t = await testApp()
  // A few people who consented the real way, with evidence; one of them erased since.
  const ids: string[] = []
  for (const email of ['anne@exemple.fr', 'bob@exemple.fr', 'chloe@exemple.fr']) {
    const r = await subscribe(t.deps, {
      ...API_CONSENT,
      email,
      purposes: ['cookies', 'geolocation'],
      evidence: { ip: '203.0.113.7', user_agent: 'Firefox' },
    })
    if (!r.ok) throw new Error(r.message)
    ids.push(r.contactId)
  }
  await eraseContact(t.deps, ids[2]!, {
    suppress: 'erased',
    method: 'erasure_request',
    source: 'test',
    actor: 'contact',
    deleteInMautic: false,
    passOnToRecipients: false,
  })
  t.clock.advance(5 * 60_000) // past the checkpoint's settling minute
  const dir = mkdtempSync(join(tmpdir(), 'cg-bundle-'))
  const jwksFile = join(dir, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify(await publishedJwks(t.deps)))
  const verify = async (file: string, jwks = jwksFile) => {
    const o = io()
    const code = await verifyBundleCommand([file, '--jwks', jwks], async () => 1, o.io)
    return { code, out: o.out.join('\n') }
  }
  return { ...t, ids, dir, jwksFile, verify }
}

describe('proof bundles', () => {
  it(
    'exports 100,000 events page by page and verifies them offline; tampering is refused',
    { timeout: 240_000 },
    async () => {
      const t = await setup()
      await bulkLedger(t.sqlite, CHAINS, PER_CHAIN)
      const file = join(t.dir, 'bundle.jsonl')
      const o = io()
      expect(await exportBundle(t.deps, { freshCheckpoint: true }, file, o.io)).toBe(0)
      const text = readFileSync(file, 'utf8')
      const lines = text.trimEnd().split('\n')
      const events = lines.filter((l) => l.startsWith('{"type":"event"'))
      expect(events).toHaveLength(CHAINS * PER_CHAIN + 3 * 2 + 2) // + the erasure's two events
      const manifest = JSON.parse(lines.at(-1)!).manifest
      expect(manifest.totals).toMatchObject({ events: events.length, contacts: CHAINS + 3 })
      expect(manifest.pages).toHaveLength(Math.ceil(events.length / 1000) + 1)

      const ok = await t.verify(file)
      expect(ok.out).toMatch(
        /^Bundle verified: bundle [\w-]+: 100008 consent events of 20003 people/,
      )
      expect(ok.code).toBe(0)

      // Evidence in clear for the living, shown as erased for the erased.
      const anne = events.map((l) => JSON.parse(l)).filter((e) => e.contact_id === t.ids[0])
      expect(anne[0]).toMatchObject({
        evidence: { ip: '203.0.113.7', user_agent: 'Firefox' },
        evidence_erased: false,
      })
      const chloe = events.map((l) => JSON.parse(l)).filter((e) => e.contact_id === t.ids[2])
      expect(chloe[0]).toMatchObject({ evidence: null, evidence_erased: true })

      // One event altered: its hash and its page no longer hold.
      const target = lines.findIndex((l) => l.includes('"source":"bulk"'))
      const altered = [...lines]
      altered[target] = altered[target]!.replace('"source":"bulk"', '"source":"forged"')
      writeFileSync(join(t.dir, 'altered.jsonl'), altered.join('\n') + '\n')
      const a = await t.verify(join(t.dir, 'altered.jsonl'))
      expect(a.code).toBe(1)
      expect(a.out).toMatch(/BUNDLE REFUSED/)
      expect(a.out).toMatch(/its content does not match its hash/)
      expect(a.out).toMatch(/page \d+: its content differs from the signed manifest/)

      // A whole event removed, re-hashing nothing: its page and the totals give it away.
      const removed = lines.filter((_, i) => i !== target)
      writeFileSync(join(t.dir, 'removed.jsonl'), removed.join('\n') + '\n')
      const r = await t.verify(join(t.dir, 'removed.jsonl'))
      expect(r.code).toBe(1)
      expect(r.out).toMatch(/100007 events, the manifest says 100008/)

      // Cut short before the manifest.
      writeFileSync(join(t.dir, 'cut.jsonl'), lines.slice(0, 5000).join('\n') + '\n')
      expect((await t.verify(join(t.dir, 'cut.jsonl'))).out).toMatch(/no manifest/)

      // Signed by another key than the gateway's.
      const other = await testApp()
      await rotateSigningKey(other.deps)
      const otherJwks = join(t.dir, 'other-jwks.json')
      writeFileSync(otherJwks, JSON.stringify(await publishedJwks(other.deps)))
      const k = await t.verify(file, otherJwks)
      expect(k.code).toBe(1)
      expect(k.out).toMatch(/the manifest signature does not verify/)
      expect(k.out).toMatch(/checkpoint is not signed by these keys/)
    },
  )

  it('serves pages in order (each Link names the next), then the manifest, and the same file streamed', async () => {
    const t = await setup()
    const key = await apiKey(t.deps, ['admin'])
    const client = api(t.app, key)
    const created = await client.post('/api/v1/admin/proof-bundles', {
      purpose: 'cookies',
      page_size: 2,
    })
    expect(created.status).toBe(201)
    const id = created.body.id as string
    const get = (path: string) =>
      t.app.request(`/api/v1/admin/proof-bundles/${id}${path}`, {
        headers: { Authorization: `Bearer ${key}` },
      })
    expect((await get('/pages/2')).status).toBe(409) // page 1 first
    expect((await get('/manifest')).status).toBe(409) // every page first
    let text = ''
    let next: string | null = '/pages/0'
    for (let i = 0; next && i < 10; i++) {
      const res = await get(next)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/)
      const link = res.headers.get('link')!
      text += await res.text()
      next = /rel="next"/.test(link)
        ? new URL(/<([^>]+)>/.exec(link)![1]!).pathname.replace(/^.*\/proof-bundles\/[\w-]+/, '')
        : null
      if (!next) expect(link).toMatch(/\/manifest>; rel="manifest"/)
    }
    const manifest = await get('/manifest')
    text += await manifest.text()
    // cookies: 3 grants and the erased person's closing event; at 2 a page, pages 1 and 2, then an empty 3.
    writeFileSync(join(t.dir, 'paged.jsonl'), text)
    const paged = await t.verify(join(t.dir, 'paged.jsonl'))
    expect(paged.out).toMatch(
      /Bundle verified: bundle [\w-]+: 4 consent events of 3 people, 2 wordings, 4 pages/,
    )

    // The download streams the same pages (and a manifest signed anew).
    const res = await get('/download')
    expect(res.status).toBe(200)
    const streamed = await res.text()
    expect(streamed.slice(0, streamed.lastIndexOf('{"type":"manifest"'))).toBe(
      text.slice(0, text.lastIndexOf('{"type":"manifest"')),
    )
    writeFileSync(join(t.dir, 'streamed.jsonl'), streamed)
    expect((await t.verify(join(t.dir, 'streamed.jsonl'))).code).toBe(0)
  })

  it('streams: the first page is out before the last one is made', async () => {
    const t = await setup()
    await bulkLedger(t.sqlite, 300, 5)
    const key = await apiKey(t.deps, ['admin'])
    const created = await api(t.app, key).post('/api/v1/admin/proof-bundles', {
      page_size: 100,
      fresh_checkpoint: true,
    })
    const res = await t.app.request(`/api/v1/admin/proof-bundles/${created.body.id}/download`, {
      headers: { Authorization: `Bearer ${key}` },
    })
    const reader = res.body!.getReader()
    const first = await reader.read()
    expect(new TextDecoder().decode(first.value!)).toMatch(
      /^\{"type":"page","bundle_id":"[\w-]+","n":0\}\n\{"type":"bundle"/,
    )
    const made = () =>
      (t.sqlite.prepare('SELECT COUNT(*) AS n FROM proof_bundle_pages').get() as { n: number }).n
    expect(made()).toBeLessThanOrEqual(2)
    while (!(await reader.read()).done);
    expect(made()).toBe(17) // page 0, 15 full pages of 100 (1,500 + 6 events), then the rest
  })

  it('the README’s check with nothing but the JWKS and jose accepts the bundle and refuses a tampered one', async () => {
    const t = await setup()
    const file = join(t.dir, 'small.jsonl')
    expect(await exportBundle(t.deps, { freshCheckpoint: true }, file, io().io)).toBe(0)
    const readme = readFileSync(join(import.meta.dirname, '../../../../README.md'), 'utf8')
    const snippet =
      /The same check with nothing but the JWKS and `jose`[^`]*```js\n([\s\S]*?)```/.exec(
        readme,
      )![1]!
    // Beside the project's node_modules, so that `jose` resolves as it would in any project.
    const dir = join(import.meta.dirname, '../../../../node_modules/.cache')
    mkdirSync(dir, { recursive: true })
    const script = join(dir, `readme-check-${process.pid}.mjs`)
    writeFileSync(script, snippet)
    const jwksUrl = `data:application/json,${encodeURIComponent(readFileSync(t.jwksFile, 'utf8'))}`
    const run = (bundle: string) =>
      new Promise<{ code: number; out: string }>((resolve) =>
        execFile(process.execPath, [script, bundle, jwksUrl], (err, stdout, stderr) =>
          resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
        ),
      )
    try {
      const ok = await run(file)
      expect(ok.out).toMatch(/^verified: 8 events, cut at checkpoint [\w-]+/)
      expect(ok.code).toBe(0)
      const forged = readFileSync(file, 'utf8').replace('"source":"test"', '"source":"forged"')
      writeFileSync(join(t.dir, 'forged.jsonl'), forged)
      const bad = await run(join(t.dir, 'forged.jsonl'))
      expect(bad.code).not.toBe(0)
      expect(bad.out).toMatch(/was altered/)
    } finally {
      rmSync(script, { force: true })
    }
  })

  it('refuses a page made again once a person was erased in between, and an unknown purpose', async () => {
    const t = await setup()
    const created = await createProofBundle(t.deps, { freshCheckpoint: true }, 'test')
    if (!created.ok) throw new Error(created.message)
    const id = created.bundle.id
    expect((await bundlePage(t.deps, id, 0)).ok).toBe(true)
    expect((await bundlePage(t.deps, id, 1)).ok).toBe(true)
    expect(await bundleManifest(t.deps, id)).toMatchObject({ ok: true })
    await eraseContact(t.deps, t.ids[0]!, {
      suppress: 'erased',
      method: 'erasure_request',
      source: 'test',
      actor: 'contact',
      deleteInMautic: false,
      passOnToRecipients: false,
    })
    expect(await bundlePage(t.deps, id, 1)).toMatchObject({ ok: false, code: 'bundle_changed' })
    expect(await createProofBundle(t.deps, { purpose: 'nope' }, 'test')).toMatchObject({
      ok: false,
      code: 'unknown_purpose',
    })
  })
})
