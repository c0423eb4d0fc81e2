// The admin console in real Chromium against the real app on Node: the first owner's set-up link →
// password → TOTP → recovery codes → sign out → sign in with a code → a passkey registered with
// Chromium's virtual authenticator (DevTools WebAuthn domain) → sign in with it → invite a marketer
// (the mail through the outbox) → the marketer sets up an account and cannot open a contact's evidence
// or the audit log. Screenshots go to test-artifacts/admin/.
import type { ServerType } from '@hono/node-server'
import { mkdirSync, mkdtempSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { firstOwnerLink } from '../../src/domain/admin/accounts.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { startOutboxLoop } from '../../src/runtime/node/outbox-loop.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { chromiumPath, launchBrowser } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'

const ARTIFACTS = join('test-artifacts', 'admin')
const OWNER = { email: 'owner@acme.example', password: 'violet tractor harbour giraffe 42' }
const MARKETER = { email: 'marketer@acme.example', password: 'orange canoe pepper lantern 7' }

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe.skipIf(!chromiumPath)('admin console in Chromium', () => {
  let server: ServerType
  let deps: Deps
  let url: string
  let browser: Browser
  let loop: ReturnType<typeof startOutboxLoop>
  const mail = memoryMailTransport()

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    const port = await freePort()
    // localhost, not 127.0.0.1: a WebAuthn relying party is a domain name, never an IP address.
    url = `http://localhost:${port}`
    const config = parseConfig({
      APP_SECRET: TEST_SECRET,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-admin-e2e-')), 'gw.db'),
      PUBLIC_URL: url,
      ORG_NAME: 'ACME',
    })
    const sqlite = openDatabase(config.databasePath)
    const ref: { loop?: ReturnType<typeof startOutboxLoop> } = {}
    deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      mail,
      pbkdf2Iterations: 10_000,
      logger: jsonLogger(() => {}),
      wakeOutbox: () => ref.loop?.wake(),
    })
    loop = ref.loop = startOutboxLoop(deps, 200)
    server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port, hostname: '127.0.0.1' }, () => resolve(s))
    })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await loop?.stop()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })

  it('set-up, TOTP, passkey, invitation, and a marketer kept out of personal data and the audit log', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'en-GB',
    })
    const page = await context.newPage()
    const link = await firstOwnerLink(deps, { actor: 'system' })
    expect(link).toMatch(/\/admin\/setup\?token=/)

    // 1. Set-up in one sitting: password → TOTP → recovery codes → the console.
    await page.goto(`${link}&lang=en`)
    await page.getByLabel('E-mail address').fill(OWNER.email)
    await page.getByLabel('Choose a password').fill(OWNER.password)
    await page.getByLabel('Type it again').fill(OWNER.password)
    await page.getByRole('button', { name: 'Save and continue' }).click()
    await page.waitForURL(/\/admin\/enrol\/totp/)
    const qr = page.locator('.qr img')
    await expect
      .poll(() => qr.evaluate((img: HTMLImageElement) => img.naturalWidth))
      .toBeGreaterThan(0)
    const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '')
    expect(await page.locator('a[href^="otpauth://totp/"]').count()).toBe(1)
    await shot(page, '1-enrol-totp')
    await page.getByLabel('Code shown by the app').fill(totpCode(secret, Date.now()))
    await page.getByRole('button', { name: 'Confirm' }).click()
    await expect.poll(() => page.locator('.codes li').count()).toBe(10)
    await shot(page, '2-recovery-codes')
    await page.getByRole('link', { name: /go to the console/ }).click()
    await expect.poll(() => page.locator('h1').innerText()).toBe('Dashboard')
    expect(await page.locator('nav').innerText()).toContain('Audit log')
    await shot(page, '3-dashboard')

    // 2. Sign out, sign in again with a code (the next step's: this step's was used at enrolment).
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.waitForURL(/\/admin\/sign-in/)
    await page.getByLabel('E-mail address').fill(OWNER.email)
    await page.getByLabel('Password').fill(OWNER.password)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/second-factor/)
    await page
      .getByLabel(/Code from your authenticator app/)
      .fill(totpCode(secret, Date.now() + 30_000))
    await page.getByRole('button', { name: 'Sign in' }).click()
    await expect.poll(() => page.locator('h1').innerText()).toBe('Dashboard')

    // 3. A passkey, with Chromium's virtual authenticator.
    const cdp = await context.newCDPSession(page)
    await cdp.send('WebAuthn.enable', { enableUI: false })
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    })
    await page.goto(`${url}/admin/account`)
    await page.getByLabel('Name of the new passkey').fill('virtual key')
    await page.getByRole('button', { name: 'Add a passkey' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Passkey added')
    expect(await page.locator('.records').last().innerText()).toContain('virtual key')
    await shot(page, '4-account-passkey')

    // 4. Sign out, sign in with the passkey as the second factor.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click()
    await page.getByLabel('E-mail address').fill(OWNER.email)
    await page.getByLabel('Password').fill(OWNER.password)
    await page.getByRole('button', { name: 'Continue' }).click()
    await page.waitForURL(/second-factor/)
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    await expect.poll(() => page.locator('h1').innerText()).toBe('Dashboard')

    // 5. Invite a marketer: the invitation goes by mail, through the outbox.
    await page.goto(`${url}/admin/users`)
    await page.locator('#invite-email').fill(MARKETER.email)
    await page.locator('#invite-role').selectOption('marketer')
    await page.locator('#invite-locale').selectOption('en')
    await page.getByRole('button', { name: 'Send the invitation' }).click()
    await expect.poll(() => page.locator('.notice').innerText()).toContain('Invitation sent')
    await shot(page, '5-users')
    await expect
      .poll(() => mail.sent.filter((m) => m.to === MARKETER.email).length, { timeout: 10_000 })
      .toBe(1)
    const invitation = mail.sent.find((m) => m.to === MARKETER.email)!
    const inviteLink = /(http:\/\/localhost:\d+\/admin\/setup\?token=[A-Za-z0-9_-]+)/.exec(
      invitation.text,
    )![1]!

    // 6. The marketer sets up an account (a second factor is offered, not required) …
    const other = await browser.newContext({
      viewport: { width: 390, height: 844 },
      locale: 'en-GB',
    })
    const m = await other.newPage()
    await m.goto(`${inviteLink}&lang=en`)
    expect(await m.locator('body').innerText()).toContain('Marketer')
    await m.getByLabel('Choose a password').fill(MARKETER.password)
    await m.getByLabel('Type it again').fill(MARKETER.password)
    await m.getByRole('button', { name: 'Save and continue' }).click()
    await m.waitForURL(/\/admin\/enrol\/totp/)
    await m.getByRole('button', { name: /Not now/ }).click()
    await expect.poll(() => m.locator('h1').innerText()).toBe('Dashboard')
    const nav = await m.locator('nav').innerText()
    expect(nav).not.toContain('Audit log')
    expect(nav).not.toContain('Users')

    // … and cannot open a contact's evidence, the audit log, or the users.
    for (const path of [
      '/admin/contacts/some-contact/evidence',
      '/admin/audit',
      '/admin/audit/export.csv',
      '/admin/users',
    ]) {
      const res = await m.goto(`${url}${path}`)
      expect([path, res?.status()]).toEqual([path, 403])
    }
    await shot(m, '6-marketer-refused')
    await other.close()
    await context.close()
  })
})
