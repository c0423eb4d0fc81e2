// The double opt-in journey of a member of the public, in real Chromium (phone width, no JavaScript)
// against the real Node server, with the confirmation e-mail going through a real SMTP server.
import { mkdtempSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLogger } from '../../src/lib/log.ts'
import { startServer, type RunningServer } from '../../src/runtime/node/server.ts'
import { chromiumPath, launchBrowser, screenshotPath } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'
import { linkIn, startSmtpServer } from '../helpers/smtp.ts'

/** A free port on 127.0.0.1, so that PUBLIC_URL (the base of the e-mailed links) can name it up front. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', resolve)
  })
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe.skipIf(!chromiumPath)('double opt-in journey in Chromium', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    smtp = await startSmtpServer()
    const port = await freePort()
    server = await startServer(
      {
        PORT: String(port),
        APP_SECRET: TEST_SECRET,
        DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-e2e-')), 'gw.db'),
        MAIL_TRANSPORT: 'smtp',
        SMTP_URL: smtp.url,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        ORG_NAME: 'ACME',
        ORG_PRIVACY_URL: 'https://acme.example/privacy',
      },
      jsonLogger(() => {}),
    )
    expect(server.url).toBe(`http://127.0.0.1:${port}`)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close() // also closes the server's pooled SMTP connections
    await smtp?.close()
  })

  /** A phone with JavaScript off; every page it opens reports CSP violations into `blocked`. */
  async function phone(locale: string) {
    const context = await browser.newContext({
      javaScriptEnabled: false,
      locale,
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
    })
    const blocked: string[] = []
    context.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) blocked.push(m.text())
    })
    return { context, blocked }
  }

  /** Right language, no horizontal scrolling at 360 px, and a full-page screenshot as an artifact. */
  async function checkPage(page: Page, lang: 'fr' | 'en', shot: string) {
    expect(await page.locator('html').getAttribute('lang'), `${shot}: html[lang]`).toBe(lang)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    expect(overflow, `${shot}: horizontal scrolling`).toBeLessThanOrEqual(0)
    await page.screenshot({ path: screenshotPath(`subscribe-${shot}`), fullPage: true })
  }

  /** The one message sent to `address`, polled for: the outbox delivers right after the commit. */
  async function mailTo(address: string) {
    const find = () => smtp.received.filter((m) => m.envelope.to.includes(address))
    await expect.poll(() => find().length, { timeout: 5_000, interval: 50 }).toBe(1)
    return find()[0]!
  }

  const heading = (page: Page) => page.locator('h1').textContent()

  /** Clicks a form's button; returns the POST's own response once the next page has loaded. */
  async function submit(page: Page, name: string) {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.waitForEvent('load'),
      page.getByRole('button', { name }).click(),
    ])
    return response
  }

  let context: BrowserContext | undefined
  afterAll(async () => {
    await context?.close()
  })

  it('in French: unticked boxes, an error that keeps the address, the e-mail, GET shows a button, POST confirms once', async () => {
    const { context: ctx, blocked } = await phone('fr')
    context = ctx
    const page = await ctx.newPage()
    const email = 'anne.dupont@exemple.fr'

    // The form: every box unticked, the privacy policy linked.
    const res = await page.goto(`${server.url}/subscribe/default`)
    expect(res?.status()).toBe(200)
    expect(await heading(page)).toBe('Inscription')
    const boxes = page.getByRole('checkbox')
    expect(await boxes.count()).toBe(2)
    for (const box of await boxes.all()) expect(await box.isChecked()).toBe(false)
    expect(
      await page
        .locator('form')
        .getByRole('link', { name: 'Politique de confidentialité' })
        .getAttribute('href'),
    ).toBe('https://acme.example/privacy')
    await checkPage(page, 'fr', 'form-fr')

    // No box ticked: the error, and what was typed is still there.
    await page.getByLabel('Votre adresse e-mail').fill(email)
    expect((await submit(page, 'Enregistrer mes choix')).status()).toBe(400)
    expect(await page.getByRole('alert').textContent()).toContain('Cochez au moins une case.')
    expect(await page.getByLabel('Votre adresse e-mail').inputValue()).toBe(email)
    for (const box of await boxes.all()) expect(await box.isChecked()).toBe(false)
    await checkPage(page, 'fr', 'form-error-fr')

    // Tick the newsletter only and send: "check your inbox".
    await page.getByLabel('Newsletter').check()
    expect((await submit(page, 'Enregistrer mes choix')).status()).toBe(303)
    expect(new URL(page.url()).pathname).toBe('/subscribe/default/done')
    expect(await heading(page)).toBe("Plus qu'une étape")
    expect(await page.locator('main').textContent()).toContain('Nous vous avons envoyé un e-mail')
    await checkPage(page, 'fr', 'done-fr')

    // The confirmation e-mail, in French, to the typed address.
    const mail = await mailTo(email)
    expect(mail.envelope.to).toEqual([email])
    expect(mail.parsed.subject).toBe('Confirmez votre inscription – ACME')
    const text = mail.parsed.text!
    expect(text).toContain('Pour confirmer cette demande, ouvrez ce lien')
    expect(text).toContain('- Newsletter')
    expect(text).not.toContain('Communications marketing')
    const confirmUrl = linkIn(text, '/c/')
    expect(confirmUrl.startsWith(`${server.url}/c/`)).toBe(true)

    // Opening the link only shows a button (mail scanners open links too)...
    expect((await page.goto(confirmUrl))?.status()).toBe(200)
    expect(await heading(page)).toBe('Confirmez votre inscription')
    expect(await page.locator('main li').allTextContents()).toEqual(['Newsletter'])
    await checkPage(page, 'fr', 'confirm-fr')
    // ...and does not confirm: a second GET (another tab) still asks, and keeps its button.
    const stale = await ctx.newPage()
    await stale.goto(confirmUrl)
    expect(await heading(stale)).toBe('Confirmez votre inscription')
    expect(await stale.getByRole('button', { name: 'Confirmer' }).isVisible()).toBe(true)

    // The button confirms.
    expect((await submit(page, 'Confirmer')).status()).toBe(200)
    expect(await heading(page)).toBe('Inscription confirmée')
    await checkPage(page, 'fr', 'confirmed-fr')

    // Back (Playwright's Chromium has no back/forward cache, and the page is no-store: it is asked
    // for again), then the button again, in the tab opened before confirming: already confirmed.
    await page.goBack()
    expect(await heading(page)).toBe('Déjà confirmée')
    expect((await submit(stale, 'Confirmer')).status()).toBe(200)
    expect(await heading(stale)).toBe('Déjà confirmée')
    await checkPage(stale, 'fr', 'already-fr')

    expect(smtp.received.filter((m) => m.envelope.to.includes(email))).toHaveLength(1)
    expect(blocked).toEqual([])
    await ctx.close()
    context = undefined
  })

  it('in English through the language switch: both boxes, the e-mail and the confirm page in English', async () => {
    const { context: ctx, blocked } = await phone('fr')
    context = ctx
    const page = await ctx.newPage()
    const email = 'john.smith@example.co.uk'

    await page.goto(`${server.url}/subscribe/default`)
    expect(await heading(page)).toBe('Inscription')
    await Promise.all([
      page.waitForURL(/[?&]lang=en/),
      page.getByRole('link', { name: 'English' }).click(),
    ])
    expect(await heading(page)).toBe('Subscribe')
    for (const box of await page.getByRole('checkbox').all())
      expect(await box.isChecked()).toBe(false)
    await checkPage(page, 'en', 'form-en')

    await page.getByLabel('Your e-mail address').fill(email)
    await page.getByLabel('Marketing e-mails').check()
    await page.getByLabel('Newsletter').check()
    expect((await submit(page, 'Save my choices')).status()).toBe(303)
    expect(await heading(page)).toBe('Almost done')
    await checkPage(page, 'en', 'done-en')

    const mail = await mailTo(email)
    expect(mail.envelope.to).toEqual([email])
    expect(mail.parsed.subject).toBe('Confirm your subscription – ACME')
    const text = mail.parsed.text!
    expect(text).toContain('To confirm this request, open this link')
    expect(text).toContain('- Marketing e-mails')
    expect(text).toContain('- Newsletter')
    const confirmUrl = linkIn(text, '/c/')

    // The browser still says French; the page follows the language the person chose.
    await page.goto(confirmUrl)
    expect(await heading(page)).toBe('Confirm your subscription')
    expect(await page.locator('main li').allTextContents()).toEqual([
      'Marketing e-mails',
      'Newsletter',
    ])
    await checkPage(page, 'en', 'confirm-en')
    expect((await submit(page, 'Confirm')).status()).toBe(200)
    expect(await heading(page)).toBe('Subscription confirmed')
    await checkPage(page, 'en', 'confirmed-en')

    expect(blocked).toEqual([])
    await ctx.close()
    context = undefined
  })
})
