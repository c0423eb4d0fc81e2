// The DPO's compliance journey in real Chromium, with JavaScript switched off (the screens are plain
// forms), at phone width, against the real app on Node: import Mautic's fields (Mautic's API stood in
// for by msw) → confirm a special-category suggestion with its Art. 9(2) condition → the risk report
// → register a processor with a webhook (its secret shown once) → record a breach and see its
// 72-hour clock, on the breach and in the banner of every screen → a proof bundle after a fresh second
// factor, downloaded and verified offline with the published keys. Screenshots go to
// test-artifacts/admin/.
import type { ServerType } from '@hono/node-server'
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { listAudit } from '../../src/domain/admin/audit.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { bundleVerifier } from '../../src/domain/compliance/bundle-verify.ts'
import { publishedJwks } from '../../src/domain/consent/signing-keys.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import { createMauticClient } from '../../src/mautic/client.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { makeAdmin, TEST_ITERATIONS, type TestAdmin } from '../helpers/admin.ts'
import { chromiumPath, launchBrowser } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'
import { useMautic } from '../helpers/mautic-fake.ts'

const ARTIFACTS = join('test-artifacts', 'admin')
const HOUR = 3_600_000
const mautic = useMautic('https://mautic.test')

describe.skipIf(!chromiumPath)('compliance screens in Chromium, without JavaScript', () => {
  let server: ServerType
  let deps: Deps
  let url: string
  let browser: Browser
  let dpo: TestAdmin
  /** The gateway's clock runs ahead by this much: how the test lets a step-up grow stale. */
  let skew = 0
  const clock = { now: () => Date.now() + skew }

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    const config = parseConfig({
      APP_SECRET: TEST_SECRET,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-compliance-e2e-')), 'gw.db'),
      ORG_NAME: 'ACME',
      DPO_EMAIL: 'dpo@acme.example',
    })
    deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite: openDatabase(config.databasePath),
      mail: memoryMailTransport(),
      clock,
      pbkdf2Iterations: TEST_ITERATIONS,
      logger: jsonLogger(() => {}),
      mautic: createMauticClient(mautic.connection, { sleep: async () => {} }),
    })
    server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    dpo = await makeAdmin(deps, 'dpo', { email: 'dpo@acme.example' })
    for (const email of ['anne@exemple.fr', 'bruno@exemple.fr']) {
      const r = await subscribe(deps, {
        email,
        purposes: ['cookies'],
        locale: 'fr',
        method: 'api',
        source: 'e2e',
        actor: 'api:test',
        evidence: { ip: '192.0.2.1' },
      })
      if (!r.ok) throw new Error(r.message)
    }
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `compliance-${name}.png`), fullPage: true })

  it('import → confirm a special category → risks → processor with a webhook → breach clock → proof bundle after step-up', async () => {
    // Mautic's own fields, and two an organisation added: one says health.
    mautic.addField({ alias: 'sante_allergies', type: 'textarea', label: 'Allergies et santé' })
    mautic.addField({ alias: 'secteur_activite', type: 'lookup', label: 'Secteur' })
    const context = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 390, height: 844 },
      locale: 'en-GB',
      acceptDownloads: true,
    })
    const page = await context.newPage()
    page.setDefaultTimeout(15_000)
    const h1 = () => page.locator('h1').innerText()

    // Sign in: password, then the app's code (the next step's: this step's was used at enrolment).
    await page.goto(`${url}/admin/sign-in?lang=en`)
    await page.getByLabel('E-mail address').fill(dpo.email)
    await page.getByLabel('Password').fill(dpo.password)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/second-factor/)
    await page
      .getByLabel(/Code from your authenticator app/)
      .fill(totpCode(dpo.totpSecret!, clock.now() + 30_000))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(h1).toBe('Dashboard')

    // 1. The data inventory: import Mautic's fields and the gateway's own.
    await page
      .getByRole('navigation', { name: 'Console' })
      .getByRole('link', { name: 'Compliance' })
      .click()
    await expect.poll(h1).toBe('Compliance')
    await page
      .getByRole('navigation', { name: 'Compliance sections' })
      .getByRole('link', { name: 'Data inventory' })
      .click()
    await page.getByRole('button', { name: 'Import the fields now' }).click()
    await expect
      .poll(() => page.locator('.notice').innerText())
      .toMatch(/Gateway: 14 added.*Mautic: \d+ added/)
    expect(mautic.calls('GET', '/api/fields/contact')).toHaveLength(1)
    await shot(page, '1-inventory')

    // 2. The health field: suggested as special category, with the reason; the person confirms.
    await page.getByRole('link', { name: 'sante_allergies' }).click()
    await expect.poll(h1).toBe('Field sante_allergies')
    const suggestion = await page
      .locator('section[aria-labelledby="suggestion-heading"]')
      .innerText()
    expect(suggestion).toContain('Special category (Art. 9, 10) · Art. 9 special category · health')
    expect(suggestion).toContain('Because the word “sante” appears in its name or label.')
    expect(await page.getByLabel(/Special category \(Art\. 9, 10\)/).isChecked()).toBe(true)
    await page.getByLabel('Purpose', { exact: true }).fill('events')
    await page.getByLabel('Legal basis').selectOption('consent')
    await page.getByLabel('Retention period, in days').fill('365')
    await page.getByLabel('Art. 9(2) condition').fill('Art. 9(2)(a) explicit consent')
    // Typing in the next box closes the list of suggested conditions over the button.
    await page.getByLabel('Notes').fill('Dietary needs at our events')
    await shot(page, '2-field')
    await page.getByRole('button', { name: 'Confirm this classification' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Classification confirmed.')
    expect(await page.locator('dl.facts').innerText()).toContain('Art. 9(2)(a) explicit consent')

    // 3. The risk report: the special-category finding is put right, others remain.
    await page.getByRole('link', { name: 'Risk report' }).click()
    await expect.poll(h1).toBe('Risk report')
    const open = await page.locator('ul.findings').innerText()
    expect(open).toContain('Field not confirmed by a person')
    expect(open).not.toContain('Special data without an Art. 9(2) condition')
    await page.getByLabel('Findings', { exact: true }).selectOption('closed')
    await page.getByRole('button', { name: 'Apply' }).click()
    await expect
      .poll(() => page.locator('ul.findings').innerText())
      .toContain('Special data without an Art. 9(2) condition')
    await shot(page, '3-risks')

    // 4. A processor with a webhook: its secret is shown once.
    await page.getByRole('link', { name: 'Processors' }).click()
    await page.getByRole('link', { name: 'Register a processor' }).click()
    await page.getByLabel('Name').fill('Newsletter SaaS')
    await page.getByLabel('Contact details').check()
    await page.getByLabel('Country').fill('US')
    await page.getByLabel('Transfer basis').selectOption('scc')
    await page.getByLabel('Data processing agreement signed on').fill('2026-01-15')
    await page.getByLabel('Webhook URL (optional)').fill('https://saas.example.test/gdpr')
    await page.getByRole('button', { name: 'Register' }).click()
    await expect.poll(h1).toBe('Webhook secret of Newsletter SaaS')
    const secret = await page.getByLabel('Secret (whsec_…)').inputValue()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32,}$/)
    expect(await page.getByRole('alert').innerText()).toContain('it is shown only this once')
    await shot(page, '4-webhook-secret')
    await page.getByRole('link', { name: /I have copied it/ }).click()
    await expect.poll(h1).toBe('Newsletter SaaS')
    const facts = await page.locator('dl.facts').innerText()
    expect(facts).toContain('corrections and erasures by webhook')
    expect(await page.content()).not.toContain(secret)

    // 5. A breach detected 49 hours ago: its clock, and the banner on every screen.
    await page.getByRole('link', { name: 'Breaches' }).click()
    await page.getByLabel('Title').fill('Laptop stolen')
    const detected = new Date(clock.now() - 49 * HOUR).toISOString().slice(0, 16)
    await page.getByLabel('Detected (UTC)').fill(detected)
    await page.getByLabel(/Confidentiality/).check()
    await page.getByLabel('Approximate number of people concerned').fill('300')
    await page.getByRole('button', { name: 'Record the breach and start the clock' }).click()
    await expect.poll(h1).toBe('Breach: Laptop stolen')
    const clockText = await page.locator('main > p.clock').innerText()
    expect(clockText).toMatch(
      /^72-hour clock: 49\u00a0h since detection; 2[23]\u00a0h \d+\u00a0min left/,
    )
    expect(await page.locator('main > p.clock').getAttribute('class')).toBe('clock clock-warning')
    await shot(page, '5-breach')
    await page.getByRole('link', { name: 'Dashboard' }).click()
    await expect.poll(h1).toBe('Dashboard')
    const banner = await page
      .getByRole('region', { name: 'Personal data breaches open: 1' })
      .innerText()
    expect(banner).toContain('Laptop stolen — 49\u00a0h since detection')

    // 6. A proof bundle: the sign-in's second factor is six minutes old, so it asks for a fresh one.
    skew += 6 * 60_000
    await page.getByRole('link', { name: 'Compliance' }).click()
    await page
      .getByRole('navigation', { name: 'Compliance sections' })
      .getByRole('link', { name: 'Proof bundles' })
      .click()
    await page.waitForURL(/\/admin\/step-up\?next=%2Fadmin%2Fcompliance%2Fbundles/)
    await page
      .getByLabel(/Code from your authenticator app/)
      .fill(totpCode(dpo.totpSecret!, clock.now()))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(h1).toBe('Proof bundles')
    await page.getByLabel('Purpose').selectOption('cookies')
    await page.getByRole('button', { name: 'Make the bundle' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Bundle ready: download it.')
    await shot(page, '6-bundle')
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the bundle (JSON lines)' }).click(),
    ])
    const text = readFileSync((await download.path())!, 'utf8')
    const verifier = bundleVerifier(await publishedJwks(deps))
    for (const line of text.split('\n')) await verifier.line(line)
    expect(await verifier.finish()).toMatchObject({ ok: true, events: 2, contacts: 2 })

    // Each step is in the audit log, by this account.
    const mine = await listAudit(deps, { actor: `admin:${dpo.id}`, limit: 100 })
    expect(mine.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'compliance.fields.import',
        'compliance.field.classify',
        'processor.create',
        'incident.create',
        'proof_bundle.create',
        'proof_bundle.download',
      ]),
    )
    await context.close()
  })
})
