// Pages in real Chromium against the real Node server: languages, phone width, no JavaScript, strict CSP.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jsonLogger } from '../../src/lib/log.ts'
import { startServer, type RunningServer } from '../../src/runtime/node/server.ts'
import { chromiumPath, launchBrowser, screenshotPath } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'

describe.skipIf(!chromiumPath)('pages in Chromium', () => {
  let server: RunningServer
  let browser: Browser

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-e2e-'))
    server = await startServer(
      { PORT: '0', APP_SECRET: TEST_SECRET, DATABASE_PATH: join(dir, 'gw.db'), ORG_NAME: 'ACME' },
      jsonLogger(() => {}),
    )
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await server?.close()
  })

  it.each([
    ['fr', 'Page introuvable'],
    ['en', 'Page not found'],
  ])(
    'the not-found page in %s: readable on a phone, without JavaScript, styled under the CSP',
    async (locale, heading) => {
      const context = await browser.newContext({
        javaScriptEnabled: false,
        locale,
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
      })
      const page = await context.newPage()
      const blocked: string[] = [] // CSP violations show as console errors
      page.on(
        'console',
        (m) => /Content Security Policy|Refused to/.test(m.text()) && blocked.push(m.text()),
      )
      const res = await page.goto(`${server.url}/some/missing/page`)
      expect(res?.status()).toBe(404)
      expect(await page.locator('html').getAttribute('lang')).toBe(locale)
      expect(await page.locator('h1').textContent()).toBe(heading)
      // The stylesheet loaded from our own host (the CSP allows nothing else).
      const maxWidth = await page.locator('main').evaluate((el) => getComputedStyle(el).maxWidth)
      expect(maxWidth).not.toBe('none')
      // No horizontal scrolling at phone width.
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - window.innerWidth,
      )
      expect(overflow).toBeLessThanOrEqual(0)
      expect(blocked).toEqual([])
      await page.screenshot({ path: screenshotPath(`not-found-${locale}`), fullPage: true })
      await context.close()
    },
  )

  it('switches language with the header link, without JavaScript', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'fr' })
    const page = await context.newPage()
    await page.goto(`${server.url}/`)
    expect(await page.locator('h1').textContent()).toBe('Passerelle de consentement')
    await page.getByRole('link', { name: 'English' }).click()
    expect(await page.locator('h1').textContent()).toBe('Consent gateway')
    expect(await page.locator('html').getAttribute('lang')).toBe('en')
    await context.close()
  })
})
