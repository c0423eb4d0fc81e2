// The console's part-2 screens in real Chromium, JavaScript off, at phone width, against the real app
// on Node: an owner signs in with a code, reads the dashboard's plots (and their tables), finds a
// contact by address, withdraws a purpose with a reason, opens the printable proof, records a request
// that came by post and extends it, writes and publishes a new notice version after its preview and
// diff, creates a hosted form, switches the Mautic mirror to enforce, sends a test mail, creates and
// revokes an API key, and erases the contact. Screenshots of each screen are kept under test-results/.
import type { ServerType } from '@hono/node-server'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { startOutboxLoop } from '../../src/runtime/node/outbox-loop.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { makeAdmin, TEST_ITERATIONS, type TestAdmin } from '../helpers/admin.ts'
import { chromiumPath, launchBrowser, screenshotPath } from '../helpers/browser.ts'
import { confirmedSubscription } from '../helpers/consent.ts'
import { TEST_SECRET } from '../helpers/deps.ts'

describe.skipIf(!chromiumPath)('the console part 2 in Chromium, without JavaScript', () => {
  let server: ServerType
  let deps: Deps
  let url: string
  let browser: Browser
  let loop: ReturnType<typeof startOutboxLoop>
  let owner: TestAdmin
  const mail = memoryMailTransport()

  beforeAll(async () => {
    const config = parseConfig({
      APP_SECRET: TEST_SECRET,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-console-e2e-')), 'gw.db'),
      ORG_NAME: 'ACME',
    })
    const sqlite = openDatabase(config.databasePath)
    const ref: { loop?: ReturnType<typeof startOutboxLoop> } = {}
    deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      mail,
      pbkdf2Iterations: TEST_ITERATIONS,
      logger: jsonLogger(() => {}),
      wakeOutbox: () => ref.loop?.wake(),
    })
    loop = ref.loop = startOutboxLoop(deps, 200)
    server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    owner = await makeAdmin(deps, 'owner', { email: 'owner@acme.example' })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await loop?.stop()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: screenshotPath(`console-${name}`), fullPage: true })
  const h1 = (page: Page) => page.locator('h1').first().innerText()

  it('every screen, each action with a reason', async () => {
    // Some activity: a confirmed contact, a refusal at the gate API.
    const contactId = await confirmedSubscription({ deps, mail }, 'anne.martin@exemple.fr', [
      'newsletter',
      'cookies',
    ])
    const key = await createApiKey(deps, { name: 'site', scopes: ['gate'] })
    if (!key.ok) throw new Error(key.error)
    await fetch(`${url}/api/v1/gate`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ purpose: 'newsletter', contacts: [{ email: 'nobody@exemple.fr' }] }),
    })

    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'en-GB',
      javaScriptEnabled: false,
    })
    const page = await context.newPage()
    await page.goto(`${url}/admin/sign-in?lang=en`)
    await page.getByLabel('E-mail address').fill(owner.email)
    await page.getByLabel('Password').fill(owner.password)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/second-factor/)
    await page
      .getByLabel(/Code from your authenticator app/)
      .fill(totpCode(owner.totpSecret!, Date.now() + 30_000))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => h1(page)).toBe('Dashboard')

    // Dashboard: five plots, each with its table of numbers.
    await new Promise((r) => setTimeout(r, 1_200)) // the gate's refusal is written within a second
    await page.goto(`${url}/admin?lang=en`)
    expect(await page.locator('figure.plot svg').count()).toBe(5)
    await page.locator('#consents-title').waitFor()
    await page.getByText('The numbers (table)').first().click()
    await shot(page, '01-dashboard')
    await page.goto(`${url}/admin?lang=fr`)
    expect(await h1(page)).toBe('Tableau de bord')
    await shot(page, '02-dashboard-fr')

    // Contacts: find by exact address, withdraw with a reason, the proof page.
    await page.goto(`${url}/admin/contacts?lang=en`)
    await page.getByLabel('E-mail address, Mautic id or contact id').fill('Anne.Martin@exemple.fr')
    await page.getByRole('button', { name: 'Find' }).click()
    await page.waitForURL(new RegExp(`/admin/contacts/${contactId}`))
    expect(await page.locator('main').innerText()).toContain('anne.martin@exemple.fr')
    await shot(page, '03-contact')
    await page.locator('#withdraw-purpose').selectOption('cookies')
    await page.locator('#withdraw-reason').fill('letter of 3 March')
    await page.getByRole('button', { name: 'Withdraw', exact: true }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Withdrawn.')
    await page.getByRole('link', { name: /Printable proof/ }).click()
    expect(await h1(page)).toBe('Proof of consent')
    await shot(page, '04-proof')

    // Requests: one by post, its deadline extended (mailed with its reason).
    await page.goto(`${url}/admin/requests?lang=en`)
    await page.getByRole('link', { name: 'Record a request' }).click()
    await page.locator('#kind').selectOption('export')
    await page.locator('#via').selectOption('post')
    await page.locator('#contact').fill('anne.martin@exemple.fr')
    await page.locator('#identity').fill('signature matches the one on file')
    await page.getByRole('button', { name: 'Record the request' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Request recorded.')
    await page.locator('#extend-months').selectOption('2')
    await page.locator('#extend-reason').fill('Ten years of records to gather.')
    await page.getByRole('button', { name: 'Extend' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('told by e-mail')
    await shot(page, '05-request')
    await expect
      .poll(() => mail.sent.some((m) => m.text.includes('Ten years of records to gather.')), {
        timeout: 10_000,
      })
      .toBe(true)
    await page.goto(`${url}/admin/requests?lang=en`)
    await shot(page, '06-requests')

    // Purposes: a new English wording, previewed, its changes shown, published.
    await page.goto(`${url}/admin/purposes?lang=en`)
    await shot(page, '07-purposes')
    await page.getByRole('link', { name: 'newsletter' }).click()
    await page.locator('#title-en').fill('Our monthly newsletter')
    await page.locator('#text-en').fill('News about our products, once a month.')
    await page.locator('#draft-en-reason').fill('new frequency')
    await page.locator('form[action$="/draft"]').nth(1).getByRole('button').click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Draft saved.')
    expect(
      await page
        .locator('#en ~ .preview, section[aria-labelledby="en"] .preview')
        .first()
        .innerText(),
    ).toContain('once a month')
    expect(await page.locator('section[aria-labelledby="en"] ins').count()).toBeGreaterThan(0)
    await shot(page, '08-draft')
    await page.locator('#publish-en-reason').fill('approved')
    await page.getByRole('button', { name: 'Publish', exact: true }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Published.')

    // Forms and mappings.
    await page.goto(`${url}/admin/forms?lang=en`)
    await page.locator('#form-key').fill('shop')
    await page.locator('#fp-newsletter').check()
    await page.locator('#form-reason').fill('shop page')
    await page.getByRole('button', { name: 'Save the form' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Form saved.')
    await shot(page, '09-forms')

    // Integration: the mirror switched to enforce, a test mail.
    await page.goto(`${url}/admin/integration?lang=en`)
    await page.locator('#mode-reason').fill('the report looked right')
    await page.getByRole('button', { name: /Switch to enforce/ }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Enforce mode on')
    await page.locator('#mail-to').fill('ops@acme.example')
    await page.locator('#mail-reason').fill('checking the transport')
    await page.getByRole('button', { name: 'Send the test mail' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Sent through memory')
    await shot(page, '10-integration')

    // API keys: created (shown once), revoked.
    await page.goto(`${url}/admin/keys?lang=en`)
    await page.locator('#key-name').fill('crm')
    await page.locator('#scope-gate').check()
    await page.locator('#key-reason').fill('new CRM')
    await page.getByRole('button', { name: 'Create the key' }).click()
    const secret = await page.locator('code.secret').innerText()
    expect(secret).toMatch(/^cgk_/)
    await shot(page, '11-keys')
    await page.goto(`${url}/admin/keys?lang=en`)
    expect(await page.locator('main').innerText()).not.toContain(secret)
    const revoke = page.locator('form[action$="/revoke"]').first()
    await revoke.locator('input[name="reason"]').fill('test over')
    await revoke.getByRole('button', { name: 'Revoke' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Key revoked')

    // Erasure, confirmed (the second factor is fresh).
    await page.goto(`${url}/admin/contacts/${contactId}?lang=en`)
    await page.locator('#erase-reason').fill('the person asked by phone, identity checked')
    await page.locator('#erase-confirm').check()
    await page.getByRole('button', { name: 'Erase', exact: true }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toBe('Erased.')
    expect(await page.locator('main').innerText()).not.toContain('anne.martin@exemple.fr')
    await shot(page, '12-erased')
    await context.close()
  })
})
