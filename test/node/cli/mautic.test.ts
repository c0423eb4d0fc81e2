// `consent-gateway mautic connect | map-form | map-email | mappings`: in-process against the stateful
// fake of Mautic's REST API (msw cannot reach a child process), and through the real bin for the
// failures that need no Mautic (argument errors, no MAUTIC_URL).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runMautic } from '../../../src/cli/mautic.ts'
import { mauticCli } from '../../helpers/cli.ts'
import { createPurpose } from '../../../src/domain/consent/purpose-admin.ts'
import { createMauticClient } from '../../../src/mautic/client.ts'
import { consentFieldAlias } from '../../../src/mautic/field-aliases.ts'
import { WEBHOOK_TRIGGERS } from '../../../src/mautic/webhook-payload.ts'
import type { MauticApi } from '../../../src/mautic/types.ts'
import {
  contactFixture,
  formSubmitted,
  leadSaved,
  signMautic,
  webhookBody,
} from '../../fixtures/mautic-webhooks.ts'
import { api, apiKey } from '../../helpers/api.ts'
import { drainOutbox, TEST_NOW, TEST_SECRET, testApp } from '../../helpers/deps.ts'
import { useMautic } from '../../helpers/mautic-fake.ts'
import { spawnBin, type Spawned } from '../../helpers/spawn.ts'

const mautic = useMautic('https://mautic.test')

async function setup(env: Record<string, string> = {}, client?: MauticApi) {
  const t = await testApp(
    { ...mautic.env, ...env },
    { mautic: client ?? createMauticClient(mautic.connection, { sleep: async () => {} }) },
  )
  const run = mauticCli(t.deps)
  const rows = (sql: string, ...params: unknown[]) => t.sqlite.prepare(sql).all(...params) as any[]
  return { ...t, run, rows }
}

const writes = () => mautic.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/'))
const SENDING = ['consent_email_marketing', 'consent_newsletter', 'consent_push_notifications']
/** The field aliases: Mautic keeps 25 characters, so the longest is shortened deterministically. */
const SENDING_FIELDS = [
  'consent_email_marketing',
  'consent_newsletter',
  consentFieldAlias('push_notifications'),
]

describe('consent-gateway mautic connect', () => {
  it('creates the webhook with a new secret (printed alone on stdout), the fields and the tags; a second run creates nothing', async () => {
    const t = await setup()
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^MAUTIC_WEBHOOK_SECRET=[0-9a-f]{64}$/)
    const secret = res.stdout.split('=')[1]!
    expect(mautic.webhooks).toEqual([
      expect.objectContaining({
        webhookUrl: 'http://gateway.test/hooks/mautic',
        secret,
        isPublished: true,
        triggers: [...WEBHOOK_TRIGGERS],
      }),
    ])
    expect([...mautic.webhooks[0]!.triggers].sort()).toEqual([
      'mautic.email_on_send',
      'mautic.form_on_submit',
      'mautic.lead_channel_subscription_changed',
      'mautic.lead_post_delete',
      'mautic.lead_post_save_new',
      'mautic.lead_post_save_update',
    ])
    expect(res.stderr).not.toContain(secret)
    expect(res.stderr).toContain('accepted already')
    const consentFields = mautic.fields
      .filter((f) => f.alias.startsWith('consent_'))
      .map((f) => [f.alias, f.type])
    expect(consentFields.sort()).toEqual(
      [['consent_preferences_url', 'url'], ...SENDING_FIELDS.map((a) => [a, 'boolean'])].sort(),
    )
    expect(mautic.tags.map((t) => t.tag).sort()).toEqual(SENDING)

    const before = writes().length
    const again = await t.run('connect')
    expect(again.code).toBe(0)
    expect(again.stdout).toBe('') // the secret is the one stored: nothing new to keep
    expect(again.stderr).toContain('exists in Mautic (id 1): none created')
    expect(again.stderr).toContain('an earlier run stored')
    expect(again.stderr).toContain('Contact fields: all present.')
    expect(again.stderr).toContain('Tags: all present.')
    expect(writes().length).toBe(before)
    expect(mautic.webhooks).toHaveLength(1)
  })

  it('leaves no window of refused deliveries: the first delivery after connect is accepted, before any configuration or restart', async () => {
    const t = await setup() // no MAUTIC_WEBHOOK_SECRET
    const hookId = () => mautic.webhooks[0]!.id
    expect((await t.run('connect')).code).toBe(0)
    const body = webhookBody([
      leadSaved('new', contactFixture({ id: 7, email: 'anne@exemple.fr' }), TEST_NOW),
    ])
    const status = await mautic.deliver(hookId(), body, (url, init) =>
      t.app.request(new URL(url).pathname, init),
    )
    expect(status).toBe(200)
    expect(t.rows('SELECT count(*) AS n FROM webhook_receipts')[0].n).toBe(1)
    // With MAUTIC_WEBHOOK_SECRET set later (as printed), both are accepted.
    const secret = mautic.webhooks[0]!.secret
    const other = await setup({ MAUTIC_WEBHOOK_SECRET: 'f'.repeat(64) })
    expect((await other.run('connect')).code).toBe(0) // the webhook exists: its secret is recovered
    expect(mautic.webhooks[0]!.secret).toBe(secret)
    const again = await mautic.deliver(hookId(), body, (url, init) =>
      other.app.request(new URL(url).pathname, init),
    )
    expect(again).toBe(200)
  })

  it('signs the new webhook with MAUTIC_WEBHOOK_SECRET when it is set, and prints no secret', async () => {
    const configured = 'a1'.repeat(32)
    const t = await setup({ MAUTIC_WEBHOOK_SECRET: configured })
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('')
    expect(res.stderr).toContain('signs its deliveries with MAUTIC_WEBHOOK_SECRET')
    expect(mautic.webhooks[0]!.secret).toBe(configured)
    expect(t.rows('SELECT count(*) AS n FROM webhook_secrets')[0].n).toBe(0)
  })

  it('publishes again a webhook Mautic unpublished after its deliveries kept failing, and says so', async () => {
    const t = await setup()
    expect((await t.run('connect')).code).toBe(0)
    const hook = mautic.webhooks[0]!
    hook.dateModified = 0 // not edited lately: Mautic may call it sick
    const body = webhookBody([
      leadSaved('new', contactFixture({ id: 8, email: 'b@exemple.fr' }), TEST_NOW),
    ])
    // 100 deliveries refused (a gateway down behind a proxy answering 502): Mautic unpublishes it.
    for (let i = 0; i < 100; i++)
      await mautic.deliver(hook.id, body, () => new Response('bad gateway', { status: 502 }))
    expect(hook.isPublished).toBe(false)
    expect(await mautic.deliver(hook.id, body, (url, init) => t.app.request(url, init))).toBeNull()
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(res.stderr).toContain('Mautic had unpublished it')
    expect(hook.isPublished).toBe(true)
    expect(mautic.calls('PATCH', `/api/hooks/${hook.id}/edit`)).toHaveLength(1)
    expect(
      await mautic.deliver(hook.id, body, (url, init) =>
        t.app.request(new URL(url).pathname, init),
      ),
    ).toBe(200)
    // A 410 unpublishes at once.
    await mautic.deliver(hook.id, body, () => new Response(null, { status: 410 }))
    expect(hook.isPublished).toBe(false)
  })

  it("recovers a lost secret from Mautic's API instead of asking to recreate the webhook", async () => {
    const t = await setup()
    mautic.webhooks.push({
      id: 4,
      name: 'Consent gateway',
      description: '',
      webhookUrl: 'http://gateway.test/hooks/mautic',
      secret: 'lost-but-listed-by-mautic',
      triggers: [...WEBHOOK_TRIGGERS],
      isPublished: true,
    })
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('MAUTIC_WEBHOOK_SECRET=lost-but-listed-by-mautic')
    expect(res.stderr).toContain('read back from Mautic')
    expect(res.stderr).not.toContain('delete that webhook')
    const body = webhookBody([
      leadSaved('new', contactFixture({ id: 9, email: 'c@exemple.fr' }), TEST_NOW),
    ])
    expect(
      await mautic.deliver(4, body, (url, init) => t.app.request(new URL(url).pathname, init)),
    ).toBe(200)
  })

  it('fits field aliases in the 25 characters Mautic keeps, keeps the alias Mautic gave, and stays idempotent', async () => {
    const t = await setup()
    const long = 'partner_offers_from_our_selected_partners'
    const added = await createPurpose(t.deps, {
      key: long,
      channel: 'email',
      legalBasis: 'consent',
      doubleOptIn: true,
      maxConsentAgeDays: null,
    })
    expect(added.ok).toBe(true)
    expect((await t.run('connect')).code).toBe(0)
    const aliases = t.rows('SELECT purpose_key, alias FROM mautic_fields ORDER BY purpose_key')
    for (const { alias } of aliases) expect(alias.length).toBeLessThanOrEqual(25)
    expect(aliases.find((a) => a.purpose_key === long)!.alias).toMatch(
      /^consent_partner_of_[0-9a-z]{6}$/,
    )
    // Every alias the gateway keeps is one Mautic has.
    for (const { alias } of aliases) expect(mautic.fields.map((f) => f.alias)).toContain(alias)
    const fieldsBefore = mautic.fields.length
    const again = await t.run('connect')
    expect(again.stderr).toContain('Contact fields: all present.')
    expect(mautic.fields.length).toBe(fieldsBefore) // no consent_…1, consent_…2: no ALTER TABLE
  })

  it('adopts a field an earlier version created and Mautic shortened (consent_push_notification)', async () => {
    const t = await setup()
    mautic.addField({
      alias: 'consent_push_notification',
      type: 'boolean',
      label: 'Consent: push_notifications',
    })
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(mautic.fields.filter((f) => f.alias.startsWith('consent_push'))).toHaveLength(1)
    expect(
      t.rows("SELECT alias FROM mautic_fields WHERE purpose_key = 'push_notifications'"),
    ).toEqual([{ alias: 'consent_push_notification' }])
  })

  it('takes --webhook-url, and a field and tag for each sending purpose in the database', async () => {
    const t = await setup()
    const added = await createPurpose(t.deps, {
      key: 'sms_offers',
      channel: 'sms',
      legalBasis: 'consent',
      doubleOptIn: false,
      maxConsentAgeDays: null,
    })
    expect(added.ok).toBe(true)
    const res = await t.run('connect', '--webhook-url', 'https://gw.example.fr/hooks/mautic')
    expect(res.code).toBe(0)
    expect(mautic.webhooks.map((h) => h.webhookUrl)).toEqual(['https://gw.example.fr/hooks/mautic'])
    expect(mautic.fields.find((f) => f.alias === 'consent_sms_offers')?.type).toBe('boolean')
    expect(mautic.tags.map((t) => t.tag)).toContain('consent_sms_offers')
    // Web, app and data purposes gate no send: no field or tag for them.
    expect(mautic.fields.map((f) => f.alias)).not.toContain('consent_cookies')
  })

  it('leaves an existing webhook alone and names the events it lacks', async () => {
    const t = await setup()
    mautic.webhooks.push({
      id: 9,
      name: 'set up by hand',
      description: '',
      webhookUrl: 'http://gateway.test/hooks/mautic/',
      secret: 'kept-by-the-admin',
      triggers: ['mautic.lead_post_save_new', 'mautic.form_on_submit'],
      isPublished: true,
    })
    const res = await t.run('connect')
    expect(res.code).toBe(0)
    expect(res.stdout).toBe('MAUTIC_WEBHOOK_SECRET=kept-by-the-admin') // recovered, see below
    expect(res.stderr).toContain('(id 9): none created')
    expect(res.stderr).toMatch(
      /lacks the events mautic\.lead_post_save_update, .*mautic\.email_on_send/,
    )
    expect(mautic.webhooks).toHaveLength(1)
    expect(mautic.webhooks[0]!.triggers).toHaveLength(2)
    expect(res.stderr).not.toContain('kept-by-the-admin')
  })

  const failures: [string, () => void, (() => MauticApi) | undefined, RegExp][] = [
    [
      'the API is disabled',
      () => {
        mautic.config.apiEnabled = false
      },
      undefined,
      /The Mautic API is disabled: turn on "API enabled" in Mautic under Settings → Configuration → API Settings/,
    ],
    [
      'the credentials are wrong',
      () => {},
      () =>
        createMauticClient(
          { ...mautic.connection, clientSecret: 'wrong' },
          { sleep: async () => {} },
        ),
      /Mautic refused MAUTIC_CLIENT_ID\/MAUTIC_CLIENT_SECRET.*Check the credentials/s,
    ],
    [
      'Mautic cannot be reached',
      () => mautic.down(),
      undefined,
      /cannot be reached.*Check MAUTIC_URL/s,
    ],
  ]
  it.each(failures)(
    'exits 1 with a helpful message when %s, and creates nothing',
    async (_, arrange, client, message) => {
      const t = await setup({}, client?.())
      arrange()
      const res = await t.run('connect')
      expect(res.code).toBe(1)
      expect(res.stdout).toBe('')
      expect(res.stderr).toMatch(/^Cannot connect to Mautic: /)
      expect(res.stderr).toMatch(message)
      mautic.down(false)
      expect(mautic.webhooks).toEqual([])
      expect(writes()).toEqual([])
    },
  )

  it('exits 1 without MAUTIC_URL, and sync too', async () => {
    const t = await testApp()
    const out: string[] = []
    const err: string[] = []
    const io = { out: async (s: string) => void out.push(s), err: (s: string) => void err.push(s) }
    for (const cmd of ['connect', 'sync'])
      expect(await runMautic([cmd], (fn) => fn(t.deps), io)).toBe(1)
    expect(out).toEqual([])
    expect(err).toEqual([
      expect.stringMatching(/^Mautic is not configured: set MAUTIC_URL/),
      err[0],
    ])
    expect(mautic.requests).toEqual([])
  })
})

describe('consent-gateway mautic map-form, map-email, mappings', () => {
  const WEBHOOK_SECRET = 'c0ffee'.repeat(10)

  it('refuses an unknown purpose or an unpublished notice version, then the mapping captures a form_on_submit', async () => {
    const t = await setup({ MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET })
    const base = ['map-form', '--form', '7', '--field', 'newsletter_optin', '--locale', 'fr']
    const unknown = await t.run(...base, '--purpose', 'newsleter', '--version', '1')
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(
      /unknown purpose "newsleter"; the purposes are: email_marketing, newsletter/,
    )
    const unpublished = await t.run(...base, '--purpose', 'newsletter', '--version', '2')
    expect(unpublished.code).toBe(1)
    expect(unpublished.stderr).toContain(
      'notice version 2 of "newsletter" (fr) is not published; published versions: 1',
    )
    expect(t.rows('SELECT * FROM mautic_form_fields')).toEqual([])

    const ok = await t.run(...base, '--purpose', 'newsletter', '--version', '1')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toBe('')
    expect(
      t.rows(
        'SELECT form_id, field_alias, purpose_key, notice_version, locale FROM mautic_form_fields',
      ),
    ).toEqual([
      {
        form_id: '7',
        field_alias: 'newsletter_optin',
        purpose_key: 'newsletter',
        notice_version: 1,
        locale: 'fr',
      },
    ])

    // Mautic posts the form submission: the ticked box becomes a consent request, pending confirmation.
    const body = webhookBody([
      formSubmitted({
        submissionId: 901,
        formId: 7,
        formAlias: 'inscription',
        contact: contactFixture({ id: 42, email: 'jeanne@exemple.fr' }),
        results: { email: 'jeanne@exemple.fr', newsletter_optin: '1' },
        ip: '203.0.113.7',
        referer: 'https://www.exemple.fr/inscription',
        timestamp: TEST_NOW,
      }),
    ])
    const res = await t.app.request('/hooks/mautic', {
      method: 'POST',
      body,
      headers: {
        'Content-Type': 'application/json',
        'Webhook-Signature': await signMautic(body, WEBHOOK_SECRET),
      },
    })
    expect(res.status).toBe(200)
    await drainOutbox(t.deps)
    expect(t.rows('SELECT purpose_key, action, source FROM consent_events')).toEqual([
      { purpose_key: 'newsletter', action: 'requested', source: 'mautic-form:7' },
    ])
    const gate = api(t.app, await apiKey(t.deps, ['gate']))
    expect(await gate.gate('newsletter', [{ email: 'jeanne@exemple.fr' }])).toMatchObject([
      { allowed: false, reason: 'pending_confirmation' },
    ])
    expect(t.mail.sent.map((m) => m.to)).toEqual(['jeanne@exemple.fr'])
  })

  it('maps e-mails and categories to e-mail purposes only, and lists every mapping', async () => {
    const t = await setup()
    expect((await t.run('mappings')).stderr).toContain('No mappings yet')
    const web = await t.run('map-email', '--email', '12', '--purpose', 'cookies')
    expect(web.code).toBe(1)
    expect(web.stderr).toContain(
      '"cookies" is a web purpose: a Mautic e-mail can only serve an e-mail purpose',
    )
    expect((await t.run('map-email', '--email', '12', '--purpose', 'newsletter')).code).toBe(0)
    expect((await t.run('map-email', '--category', '3', '--purpose', 'email_marketing')).code).toBe(
      0,
    )
    const replaced = await t.run('map-email', '--email', '12', '--purpose', 'email_marketing')
    expect(replaced.stderr).toContain('replacing the previous mapping')
    expect(
      (
        await t.run(
          'map-form',
          '--form',
          '7',
          '--field',
          'optin',
          '--purpose',
          'newsletter',
          '--version',
          '1',
          '--locale',
          'en',
        )
      ).code,
    ).toBe(0)

    const listed = await t.run('mappings')
    expect(listed.code).toBe(0)
    expect(listed.stdout.split('\n')).toEqual([
      'FORM  FIELD  PURPOSE     NOTICE  LOCALE',
      '7     optin  newsletter  v1      en',
      '',
      'MAUTIC    ID  PURPOSE',
      'email     12  email_marketing',
      'category  3   email_marketing',
    ])
  })
})

describe('consent-gateway mautic: the real bin', () => {
  const running: Spawned[] = []
  afterAll(() => {
    for (const s of running.splice(0)) s.child.kill('SIGKILL')
  })
  async function bin(args: string[], env: Record<string, string> = {}) {
    const cwd = mkdtempSync(join(tmpdir(), 'cg-mautic-'))
    const s = spawnBin(args, {
      cwd,
      env: { DATABASE_PATH: join(cwd, 'gw.db'), APP_SECRET: TEST_SECRET, ...env },
    })
    running.push(s)
    let stdout = ''
    let stderr = ''
    s.child.stdout!.on('data', (d) => (stdout += d))
    s.child.stderr!.on('data', (d) => (stderr += d))
    return { code: await s.exited, stdout, stderr }
  }

  it.concurrent.for([
    [
      ['mautic', 'map-form', '--form', '7', '--field', 'optin'],
      2,
      /map-form needs --form, --field, --purpose/,
    ],
    [
      [
        'mautic',
        'map-form',
        '--form',
        '7',
        '--field',
        'x',
        '--purpose',
        'newsletter',
        '--version',
        '1',
        '--locale',
        'de',
      ],
      2,
      /--locale must be fr or en/,
    ],
    [
      ['mautic', 'map-email', '--email', '1', '--category', '2', '--purpose', 'newsletter'],
      2,
      /either --email or --category/,
    ],
    [
      ['mautic', 'connect', '--webhook-url', 'ftp://x'],
      2,
      /--webhook-url must be an http\(s\) URL/,
    ],
    [['mautic', 'sync', '--since', 'x'], 2, /--since/],
    [['mautic'], 2, /connect, sync, map-form, map-email or mappings\?/],
    [['mautic', 'connect'], 1, /^Mautic is not configured: set MAUTIC_URL/],
  ] as const)(
    '%j: exit %i, the message on stderr, nothing on stdout',
    { timeout: 60_000 },
    async ([args, code, message], { expect }) => {
      const res = await bin([...args])
      expect(res.code).toBe(code)
      expect(res.stdout).toBe('')
      expect(res.stderr).toMatch(message)
      if (code === 2) expect(res.stderr).toContain('Usage: consent-gateway mautic <command>')
    },
  )
})
