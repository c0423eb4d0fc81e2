// Accessibility of every public page, in French and English: axe-core injected into real Chromium,
// no serious or critical violation. The pages forbid inline script (CSP), so the scan's own context
// bypasses the CSP; the pages themselves need no JavaScript (the other e2e tests run them without).
import type { ServerType } from '@hono/node-server'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { accessUrl } from '../../src/domain/rights/access.ts'
import { correctContact } from '../../src/domain/rights/correction.ts'
import { emailChangeUrl } from '../../src/domain/rights/email-change.ts'
import { preferencesUrl, unsubscribeUrl } from '../../src/domain/sending/links.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { publishNotice } from '../../src/domain/consent/purpose-admin.ts'
import { queueReconsentMails } from '../../src/domain/consent/reconsent.ts'
import { signLinkToken } from '../../src/domain/platform/link-tokens.ts'
import { findContactById } from '../../src/db/repositories/contacts.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport } from '../../src/mail/memory.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { chromiumPath, launchBrowser } from '../helpers/browser.ts'
import { API_CONSENT, TEST_SECRET } from '../helpers/deps.ts'

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[]; failureSummary?: string }[]
}

describe.skipIf(!chromiumPath)('accessibility of the public pages (axe-core)', () => {
  let server: ServerType
  let url: string
  let deps: Deps
  let browser: Browser
  let context: BrowserContext
  /** Filled once the data exists: the page name → its path. */
  const paths: Record<string, string> = {}

  beforeAll(async () => {
    const config = parseConfig({
      APP_SECRET: TEST_SECRET,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-a11y-')), 'gw.db'),
      ORG_NAME: 'ACME',
      ORG_PRIVACY_URL: 'https://acme.example/privacy',
    })
    const sqlite = openDatabase(config.databasePath)
    deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      mail: memoryMailTransport(),
      logger: jsonLogger(() => {}),
    })
    server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`

    // One contact with a granted, a pending and a confirmed-then-corrected history.
    const now = deps.clock.now()
    const r = await subscribe(deps, {
      ...API_CONSENT,
      email: 'anne@exemple.fr',
      purposes: ['newsletter', 'cookies', 'push_notifications'],
      attributes: { first_name: 'Anne', last_name: 'Dupont' },
    })
    if (!r.ok) throw new Error(r.message)
    const id = r.contactId
    const request = sqlite.prepare('SELECT id, expires_at FROM optin_requests').get() as {
      id: string
      expires_at: number
    }
    const confirm = await signLinkToken(
      deps.keys,
      'confirm',
      { sub: request.id },
      request.expires_at,
      now,
    )
    const path = (u: string) => new URL(u).pathname
    const access = path(await accessUrl(deps, id, crypto.randomUUID()))
    const expired = await signLinkToken(
      deps.keys,
      'access',
      { sub: id, r: 'x' },
      now - 60_000,
      now - 3_600_000,
    )
    await correctContact(deps, (await findContactById(deps.db, id))!, {
      attributes: {},
      locale: 'fr',
      email: 'anne.new@exemple.fr',
    })
    const change = JSON.parse(
      (
        sqlite.prepare("SELECT payload FROM outbox WHERE kind = 'mail.email_change'").get() as {
          payload: string
        }
      ).payload,
    ) as { requestId: string; emailEnc: string }
    const emailChange = path(await emailChangeUrl(deps, id, change.requestId, change.emailEnc))
    // A new wording of "cookies" that requires re-consent: Anne's link to answer it.
    const v2 = await publishNotice(deps, {
      purposeKey: 'cookies',
      locale: 'fr',
      title: 'Cookies',
      body: 'Nous utilisons aussi des cookies de mesure d’audience.',
      privacyUrl: 'https://acme.test/privacy',
      requiresReconsent: true,
    })
    if (!v2.ok) throw new Error(v2.message)
    await queueReconsentMails(deps)
    const reconsent = await signLinkToken(
      deps.keys,
      'reconsent',
      { sub: id, n: v2.id },
      now + 86_400_000,
      now,
    )

    Object.assign(paths, {
      'hosted form': '/subscribe/default',
      'double opt-in confirmation': `/c/${confirm}`,
      unsubscribe: path(await unsubscribeUrl(deps, id, 'cookies')),
      'preference center': path(await preferencesUrl(deps, id)),
      'data access request': '/privacy',
      'data access answer': '/privacy/sent',
      'data page': access,
      'correction form': `${access}/correct`,
      'objection confirmation': `${access}/object`,
      'erasure confirmation': `${access}/erase`,
      'new address confirmation': emailChange,
      're-consent': `/r/${reconsent}`,
      'erasure done': '/privacy/erased',
      'expired access link': `/me/${expired}`,
      'invalid access link': '/me/forged.token.here',
      'not found': '/no/such/page',
    })
    browser = await launchBrowser()
    context = await browser.newContext({ bypassCSP: true, viewport: { width: 360, height: 740 } })
  })
  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  const PAGES: [string, number][] = [
    ['hosted form', 200],
    ['double opt-in confirmation', 200],
    ['unsubscribe', 200],
    ['preference center', 200],
    ['data access request', 200],
    ['data access answer', 200],
    ['data page', 200],
    ['correction form', 200],
    ['objection confirmation', 200],
    ['erasure confirmation', 200],
    ['new address confirmation', 200],
    ['re-consent', 200],
    ['erasure done', 200],
    ['expired access link', 410],
    ['invalid access link', 404],
    ['not found', 404],
  ]

  describe.each(['fr', 'en'] as const)('in %s', (lang) => {
    it.each(PAGES)('%s: no serious or critical violation', async (what, status) => {
      const page = await context.newPage()
      const res = await page.goto(`${url}${paths[what]}?lang=${lang}`)
      expect(res?.status()).toBe(status)
      expect(await page.locator('html').getAttribute('lang')).toBe(lang)
      await page.addScriptTag({ content: AXE })
      const violations = (await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } })
          .axe
        return (await axe.run()).violations
      })) as AxeViolation[]
      await page.close()
      const problems = violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${what} [${lang}] ${v.id} (${v.impact}): ${v.help}\n` +
            v.nodes
              .map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`)
              .join('\n'),
        )
      if (problems.length > 0) console.error(problems.join('\n'))
      expect(problems).toEqual([])
    })
  })

  it('the scan does find a violation when there is one (a control without a label)', async () => {
    const page = await context.newPage()
    await page.goto(`${url}/privacy?lang=en`)
    await page.evaluate(() => document.querySelector('label[for="email"]')!.remove())
    await page.addScriptTag({ content: AXE })
    const ids = await page.evaluate(async () => {
      const axe = (
        window as unknown as { axe: { run(): Promise<{ violations: { id: string }[] }> } }
      ).axe
      return (await axe.run()).violations.map((v) => v.id)
    })
    expect(ids).toContain('label')
    await page.close()
  })
})
