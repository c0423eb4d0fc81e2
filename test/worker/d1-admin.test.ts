// Administering a deployed Worker before the admin API exists (README "Deploying to Cloudflare
// Workers"): the SQL that `consent-gateway … --d1-sql FILE` wrote (test/worker/d1-cli.setup.ts ran
// the real command in Node) applied to D1 as `wrangler d1 execute --file` would, then used by the
// Worker itself: the first API key authenticates, the webhook secret `mautic connect` stored is
// accepted, the e-mail mapping is there.
import { env, SELF } from 'cloudflare:test'
import { describe, expect, inject, it } from 'vitest'
import { deliverOutbox } from '../../src/domain/platform/outbox.ts'
import { forEnv } from '../../src/runtime/worker/deps.ts'
import { contactFixture, leadSaved, signMautic, webhookBody } from '../fixtures/mautic-webhooks.ts'

/** Each line a statement, as the file is written; comments skipped. */
async function execute(sql: string) {
  const statements = sql
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('--'))
  await env.DB.batch(statements.map((s) => env.DB.prepare(s)))
}

const cli = inject('d1Cli')

describe('the consent-gateway command against D1 (--d1-sql)', () => {
  it('creates the first API key of a deployed Worker', async () => {
    expect(cli.firstKey.sql).toMatch(/^INSERT INTO "api_keys" /m)
    await execute(cli.firstKey.sql)
    const after = await SELF.fetch('https://gateway.test/api/v1/outbox?status=dead', {
      headers: { Authorization: `Bearer ${cli.firstKey.key}` },
    })
    expect(after.status).toBe(200)
  })

  it('runs mautic connect: the Worker accepts deliveries signed with the secret it stored, at once', async () => {
    const body = webhookBody([
      leadSaved('new', contactFixture({ id: 4801, email: 'w.d1@exemple.fr' }), Date.now()),
    ])
    const post = async () =>
      SELF.fetch('https://gateway.test/hooks/mautic', {
        method: 'POST',
        body,
        headers: {
          'Content-Type': 'application/json',
          'Webhook-Signature': await signMautic(body, cli.connect.webhookSecret),
        },
      })
    // No MAUTIC_WEBHOOK_SECRET binding: nothing to verify with yet.
    expect((await post()).status).toBe(503)
    expect(cli.connect.stdout).toBe(`MAUTIC_WEBHOOK_SECRET=${cli.connect.webhookSecret}`)
    expect(cli.connect.sql).not.toContain(cli.connect.webhookSecret) // stored encrypted
    await execute(cli.connect.sql)
    const res = await post()
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ received: 1, outcomes: { queued: 1 } })
    const aliases = await env.DB.prepare('SELECT purpose_key, alias FROM mautic_fields').all()
    expect(aliases.results.length).toBeGreaterThanOrEqual(3)
  })

  it('runs mautic map-email', async () => {
    await execute(cli.mapEmail.sql)
    const rows = await env.DB.prepare(
      'SELECT kind, ref, purpose_key FROM mautic_email_purposes',
    ).all()
    expect(rows.results).toEqual([{ kind: 'email', ref: '12', purpose_key: 'newsletter' }])
  })

  it('runs mautic sync: the contact is linked and listed without proof, its address known to the Worker', async () => {
    await execute(cli.sync.sql)
    const findings = await SELF.fetch('https://gateway.test/api/v1/findings', {
      headers: { Authorization: `Bearer ${cli.firstKey.key}` },
    })
    expect(findings.status).toBe(200)
    const body = (await findings.json()) as { findings: { kind: string; mautic_id: string }[] }
    expect(body.findings).toContainEqual(
      expect.objectContaining({ kind: 'no_proof', mautic_id: String(cli.sync.mauticId) }),
    )
    // The blind index the command wrote (node:crypto) is the one the Worker computes (WebCrypto):
    // a webhook for that address finds the same gateway contact.
    const body2 = webhookBody([
      leadSaved('update', contactFixture({ id: 4890, email: 'w.sync@exemple.fr' }), Date.now()),
    ])
    const res = await SELF.fetch('https://gateway.test/hooks/mautic', {
      method: 'POST',
      body: body2,
      headers: {
        'Content-Type': 'application/json',
        'Webhook-Signature': await signMautic(body2, cli.connect.webhookSecret),
      },
    })
    expect(res.status).toBe(200)
    const { deps } = await forEnv(env)
    while ((await deliverOutbox(deps)).delivered > 0);
    const link = (id: number) =>
      env.DB.prepare(
        "SELECT contact_id FROM contact_links WHERE system = 'mautic' AND external_id = ?",
      )
        .bind(String(id))
        .first<{ contact_id: string }>()
    const synced = await link(cli.sync.mauticId)
    expect(synced?.contact_id).toBeTruthy()
    expect((await link(4890))?.contact_id).toBe(synced!.contact_id)
  })
})
