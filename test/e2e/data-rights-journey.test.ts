// The whole life of a contact's data, in real Chromium (phone width, no JavaScript) against the real app
// on Node, every mail through a real SMTP server: hosted form → confirmation → preference change →
// unsubscribe → access request by e-mail → data page and downloads → correction → erasure → the address
// blocked until a new subscription is confirmed by double opt-in. Screenshots go to test-artifacts/.
import type { ServerType } from '@hono/node-server'
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { createApiKey } from '../../src/domain/platform/api-keys.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { smtpMailTransport } from '../../src/runtime/node/mail.ts'
import { startOutboxLoop } from '../../src/runtime/node/outbox-loop.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { chromiumPath, launchBrowser } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'
import { linkIn, startSmtpServer } from '../helpers/smtp.ts'

const ARTIFACTS = join('test-artifacts', 'data-rights')

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** The app as `serve` runs it, with a fast delivery loop. */
async function startGateway(smtpUrl: string) {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const config = parseConfig({
    APP_SECRET: TEST_SECRET,
    DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-e2e-')), 'gw.db'),
    PUBLIC_URL: url,
    ORG_NAME: 'ACME',
    ORG_PRIVACY_URL: 'https://acme.example/privacy',
  })
  const sqlite = openDatabase(config.databasePath)
  const mail = smtpMailTransport(smtpUrl)
  const loopRef: { current?: ReturnType<typeof startOutboxLoop> } = {}
  const deps: Deps = await nodeDeps({
    config: { ...config, appSecret: TEST_SECRET },
    sqlite,
    mail,
    logger: jsonLogger(() => {}),
    wakeOutbox: () => loopRef.current?.wake(),
  })
  loopRef.current = startOutboxLoop(deps, 200)
  const server = await new Promise<ServerType>((resolve) => {
    const s = serveGateway(deps, { port, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return {
    url,
    deps,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await loopRef.current?.stop()
      mail.close()
      sqlite.close()
    },
  }
}

describe.skipIf(!chromiumPath)('data rights journey in Chromium', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>
  let gw: Awaited<ReturnType<typeof startGateway>>
  let browser: Browser
  let context: BrowserContext
  let key: string

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true })
    smtp = await startSmtpServer()
    gw = await startGateway(smtp.url)
    const created = await createApiKey(gw.deps, { name: 'site', scopes: ['gate', 'send'] })
    if (!created.ok) throw new Error(created.error)
    key = created.key
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await gw?.close()
    await smtp?.close()
  })

  const apiCall = async (path: string, body: unknown) => {
    const res = await fetch(`${gw.url}${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: (await res.json()) as any }
  }
  const gate = async (purpose: string, email: string) =>
    (await apiCall('/api/v1/gate', { purpose, contacts: [{ email }] })).body.results[0] as {
      allowed: boolean
      reason: string | null
    }

  /** The mails received by `address`, polled for until there are `n`. */
  async function mailsTo(address: string, n: number) {
    const find = () => smtp.received.filter((m) => m.envelope.to.includes(address))
    await expect.poll(() => find().length, { timeout: 5_000, interval: 50 }).toBe(n)
    return find()
  }

  const blocked: string[] = []
  const heading = (page: Page) => page.locator('h1').textContent()

  /** Right language, no horizontal scrolling on a phone, no CSP refusal, and a screenshot. */
  async function check(page: Page, shot: string, lang: 'fr' | 'en' = 'fr') {
    expect(await page.locator('html').getAttribute('lang'), shot).toBe(lang)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - window.innerWidth,
    )
    expect(overflow, `${shot}: horizontal scrolling`).toBeLessThanOrEqual(0)
    expect(blocked, shot).toEqual([])
    await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`), fullPage: true })
  }

  /** Clicks a form's button; the POST's own response once the next page has loaded. */
  async function submit(page: Page, name: string) {
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.waitForEvent('load'),
      page.getByRole('button', { name, exact: true }).click(),
    ])
    return response
  }

  async function download(page: Page, name: string) {
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name }).click(),
    ])
    return { name: file.suggestedFilename(), text: readFileSync((await file.path())!, 'utf8') }
  }

  /** Subscribes on the hosted form and confirms through the mailed link; returns that mail count. */
  async function subscribeAndConfirm(page: Page, email: string, shot: string, seen: number) {
    await page.goto(`${gw.url}/subscribe/default`)
    await check(page, `${shot}-form`)
    await page.getByLabel('Votre adresse e-mail').fill(email)
    await page.getByLabel('Newsletter').check()
    await page.getByLabel('Communications marketing par e-mail').check()
    expect((await submit(page, 'Enregistrer mes choix')).status()).toBe(303)
    expect(await heading(page)).toBe("Plus qu'une étape")
    const mails = await mailsTo(email, seen + 1)
    const confirmUrl = linkIn(mails.at(-1)!.parsed.text!, '/c/')
    await page.goto(confirmUrl)
    await check(page, `${shot}-confirm`)
    expect((await submit(page, 'Confirmer')).status()).toBe(200)
    expect(await heading(page)).toBe('Inscription confirmée')
    return seen + 1
  }

  it('from subscription to erasure, and back only through double opt-in', async () => {
    context = await browser.newContext({
      javaScriptEnabled: false,
      locale: 'fr',
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      acceptDownloads: true,
    })
    context.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) blocked.push(m.text())
    })
    const page = await context.newPage()
    const email = 'anne.dupont@exemple.fr'

    // 1. Hosted form, confirmation mail from the SMTP server, confirmation.
    let seen = await subscribeAndConfirm(page, email, '01-subscribe', 0)
    expect(await gate('newsletter', email)).toMatchObject({ allowed: true, reason: null })

    // A marketing mail brings the footer links (unsubscribe and preferences).
    const sent = await apiCall('/api/v1/send', {
      purpose: 'newsletter',
      to: email,
      subject: 'Nouveautés',
      text: 'Bonjour,\n\nNos nouveautés du mois.',
    })
    expect(sent.status).toBe(202)
    const newsletter = (await mailsTo(email, ++seen)).at(-1)!.parsed.text!
    const preferencesUrl = linkIn(newsletter, '/p/')
    const unsubscribeUrl = linkIn(newsletter, '/u/')

    // 2. Preference change: stop marketing e-mails, keep the newsletter.
    await page.goto(preferencesUrl)
    expect(await heading(page)).toBe('Vos préférences')
    await check(page, '02-preferences')
    expect(await page.getByLabel('Communications marketing par e-mail').isChecked()).toBe(true)
    await page.getByLabel('Communications marketing par e-mail').uncheck()
    expect((await submit(page, 'Enregistrer mes choix')).status()).toBe(303)
    expect(await page.getByRole('status').textContent()).toContain('Vos choix sont enregistrés.')
    expect(await page.getByLabel('Communications marketing par e-mail').isChecked()).toBe(false)
    await check(page, '03-preferences-saved')
    expect((await gate('email_marketing', email)).reason).toBe('withdrawn')

    // 3. Unsubscribe from the newsletter with the mail's link.
    await page.goto(unsubscribeUrl)
    await check(page, '04-unsubscribe')
    expect((await submit(page, 'Me désinscrire')).status()).toBe(200)
    expect(await heading(page)).toBe('Vous êtes désinscrit')
    expect((await gate('newsletter', email)).reason).toBe('withdrawn')

    // 4. Access request by e-mail: the same answer whatever the address, the link by mail.
    await page.goto(`${gw.url}/privacy`)
    expect(await heading(page)).toBe('Accéder à vos données')
    await check(page, '05-privacy')
    await page.getByLabel('Votre adresse e-mail').fill(email)
    expect((await submit(page, 'Recevoir mon lien')).status()).toBe(303)
    expect(await heading(page)).toBe('Consultez votre boîte de réception')
    await check(page, '06-privacy-sent')
    const access = (await mailsTo(email, ++seen)).at(-1)!
    expect(access.parsed.subject).toBe('Accès à vos données – ACME')
    const accessUrl = linkIn(access.parsed.text!, '/me/')

    // 5. The data page: everything held, with the wording and the history.
    await page.goto(accessUrl)
    expect(await heading(page)).toBe('Vos données')
    const main = (await page.locator('main').textContent())!
    expect(main).toContain(email)
    expect(main).toContain('Cochez cette case pour vous abonner à notre newsletter.')
    expect(main).toContain('confirmation par e-mail')
    expect(main).toContain('désinscription')
    expect(main).toContain('Accès à vos données')
    await check(page, '07-me')

    // 6. Downloads, through the browser.
    const json = await download(page, 'Télécharger au format JSON')
    expect(json.name).toMatch(/^my-data-\d{4}-\d{2}-\d{2}\.json$/)
    const data = JSON.parse(json.text)
    expect(data.profile.email).toBe(email)
    expect(data.consents.find((c: any) => c.purpose === 'newsletter').status).toBe('withdrawn')
    const csv = await download(page, 'Télécharger au format CSV (tableur)')
    expect(csv.name).toMatch(/\.csv$/)
    expect(csv.text.replace(/^\uFEFF/, '').split('\r\n')[0]).toBe('section,item,field,value')
    expect(csv.text).toContain(`profile,,email,${email}`)

    // 7. Correction: a first name, saved encrypted and shown back.
    await page.getByRole('link', { name: 'Corriger mes informations' }).first().click()
    expect(await heading(page)).toBe('Corriger vos informations')
    await check(page, '08-correct')
    await page.getByLabel('Prénom').fill('Anne')
    await page.getByLabel('Nom', { exact: true }).fill('Dupont <b>')
    expect((await submit(page, 'Enregistrer')).status()).toBe(303)
    expect(await page.getByRole('status').textContent()).toBe('Vos corrections sont enregistrées.')
    expect(await page.locator('main').textContent()).toContain('Dupont <b>')
    await check(page, '09-corrected')

    // 8. Erasure, after an explicit confirmation.
    await page.getByRole('link', { name: 'Effacer mes données' }).click()
    expect(await heading(page)).toBe('Effacer vos données')
    await check(page, '10-erase')
    await page.getByLabel("Je comprends que l'effacement est définitif.").check()
    expect((await submit(page, 'Effacer mes données')).status()).toBe(303)
    expect(await heading(page)).toBe('Vos données sont effacées')
    await check(page, '11-erased')
    await page.goto(accessUrl)
    expect(await heading(page)).toBe("Ce lien n'ouvre plus rien")
    await check(page, '12-link-after-erasure')

    // 9. Blocked: the gate refuses the address, and a send to it goes nowhere.
    expect(await gate('newsletter', email)).toMatchObject({ allowed: false, reason: 'suppressed' })
    const refused = await apiCall('/api/v1/send', {
      purpose: 'newsletter',
      to: email,
      subject: 'Encore ?',
      text: 'Non.',
    })
    expect(refused.body).toMatchObject({ status: 'blocked', reason: 'suppressed' })

    // 10. Only a new subscription confirmed by double opt-in lifts it.
    await page.goto(`${gw.url}/subscribe/default`)
    await page.getByLabel('Votre adresse e-mail').fill(email)
    await page.getByLabel('Newsletter').check()
    expect((await submit(page, 'Enregistrer mes choix')).status()).toBe(303)
    expect(await gate('newsletter', email)).toMatchObject({ allowed: false, reason: 'suppressed' })
    const again = (await mailsTo(email, ++seen)).at(-1)!
    expect(again.parsed.subject).toBe('Confirmez votre inscription – ACME')
    await page.goto(linkIn(again.parsed.text!, '/c/'))
    expect((await submit(page, 'Confirmer')).status()).toBe(200)
    expect(await heading(page)).toBe('Inscription confirmée')
    await check(page, '13-resubscribed')
    expect(await gate('newsletter', email)).toMatchObject({ allowed: true, reason: null })
    // Nothing else was mailed meanwhile (the refused send, above, never left).
    expect(smtp.received.filter((m) => m.envelope.to.includes(email))).toHaveLength(seen)
  })
})
