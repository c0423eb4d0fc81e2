// Accessibility of every admin page, in French and English: axe-core in real Chromium at phone width,
// no serious or critical violation (as test/e2e/accessibility.test.ts does for the public pages).
import type { ServerType } from '@hono/node-server'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { createAccount } from '../../src/domain/admin/accounts.ts'
import { recordAudit } from '../../src/domain/admin/audit.ts'
import { totpCode } from '../../src/domain/admin/totp.ts'
import { addManualField, importGatewayFields } from '../../src/domain/compliance/inventory.ts'
import { correctContact } from '../../src/domain/rights/correction.ts'
import { createIncident } from '../../src/domain/compliance/incidents.ts'
import { createProcessor } from '../../src/domain/compliance/processors.ts'
import { createProofBundle } from '../../src/domain/compliance/proof-bundle.ts'
import { findContact } from '../../src/domain/platform/contacts.ts'
import { listRecipientNotices } from '../../src/domain/compliance/recipients.ts'
import { publishNotice } from '../../src/domain/consent/purpose-admin.ts'
import { queueReconsentMails } from '../../src/domain/consent/reconsent.ts'
import { recordBackup } from '../../src/domain/operations/backups.ts'
import { runMonitor } from '../../src/domain/operations/monitor.ts'
import { runRetention } from '../../src/domain/operations/retention.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { memoryMailTransport, type MemoryMailTransport } from '../../src/mail/memory.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { serveGateway } from '../../src/runtime/node/edge.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { makeAdmin, TEST_ITERATIONS } from '../helpers/admin.ts'
import { confirmedSubscription } from '../helpers/consent.ts'
import { saveDraft } from '../../src/domain/admin/notices.ts'
import { saveHostedForm } from '../../src/domain/admin/forms.ts'
import { recordStaffRequest } from '../../src/domain/admin/requests.ts'
import { flushCounters, tallyRefusals } from '../../src/domain/platform/counters.ts'
import { gateBatch } from '../../src/domain/sending/gate.ts'
import { chromiumPath, launchBrowser } from '../helpers/browser.ts'
import { TEST_SECRET } from '../helpers/deps.ts'

/** What the part-2 screens show: a contact with events, a request, a notice draft, a form, a dead letter. */
async function consoleData(deps: Deps, sqlite: ReturnType<typeof openDatabase>) {
  const mail = deps.mail as MemoryMailTransport
  const contactId = await confirmedSubscription({ deps, mail }, 'anne@acme.example')
  const by = { actor: 'cli' }
  const request = await recordStaffRequest(
    deps,
    { kind: 'access', via: 'post', note: 'letter' },
    by,
  )
  if (!request.ok) throw new Error(request.code)
  await saveDraft(
    deps,
    'newsletter',
    'en',
    { title: 'Monthly news', text: 'Once a month.', privacyUrl: '', requiresReconsent: false },
    { ...by, reason: 'a11y' },
  )
  await saveHostedForm(deps, 'shop', ['newsletter'], { ...by, reason: 'a11y' })
  const gate = await gateBatch(deps, 'newsletter', [{ email: 'nobody@acme.example' }])
  if (gate.ok) tallyRefusals(deps, 'gate_api', 'newsletter', ['unknown_contact'])
  await flushCounters(deps)
  sqlite
    .prepare(
      "INSERT INTO outbox (id, kind, payload, status, attempts, next_attempt_at, last_error, created_at) VALUES ('0190dead', 'mautic.mirror', '{}', 'dead', 25, 0, 'Mautic answered 500', 1)",
    )
    .run()
  return { contactId, requestId: request.id }
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[]; failureSummary?: string }[]
}

async function violations(page: Page, what: string): Promise<string[]> {
  await page.addScriptTag({ content: AXE })
  const found = (await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe
    return (await axe.run()).violations
  })) as AxeViolation[]
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${what} ${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n'),
    )
}

describe.skipIf(!chromiumPath)('accessibility of the admin pages (axe-core)', () => {
  let server: ServerType
  let url: string
  let deps: Deps
  let browser: Browser
  let signedIn: BrowserContext
  let pending: BrowserContext
  let anonymous: BrowserContext
  let setupLink: string
  let ownerSecret: string
  let part2: { contactId: string; requestId: string }
  let recoveryCodes: string[]
  /** Ids of the compliance records the compliance screens show. */
  const ids = { field: '', processor: '', incident: '', task: '', request: '', bundle: '' }

  beforeAll(async () => {
    const config = parseConfig({
      APP_SECRET: TEST_SECRET,
      DATABASE_PATH: join(mkdtempSync(join(tmpdir(), 'cg-admin-a11y-')), 'gw.db'),
      ORG_NAME: 'ACME',
      BACKUP_MAX_AGE_HOURS: '24',
    })
    const sqlite = openDatabase(config.databasePath)
    deps = await nodeDeps({
      config: { ...config, appSecret: TEST_SECRET },
      sqlite,
      mail: memoryMailTransport(),
      pbkdf2Iterations: TEST_ITERATIONS,
      logger: jsonLogger(() => {}),
    })
    server = await new Promise<ServerType>((resolve) => {
      const s = serveGateway(deps, { port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    const owner = await makeAdmin(deps, 'owner', { email: 'owner@acme.example' })
    ownerSecret = owner.totpSecret!
    recoveryCodes = [...owner.recoveryCodes]
    const invited = await createAccount(
      deps,
      { email: 'new@acme.example', role: 'viewer', mail: false },
      { actor: 'cli' },
    )
    if (!invited.ok) throw new Error(invited.error)
    setupLink = new URL(invited.url).search
    await recordAudit(deps, {
      actor: 'cli',
      action: 'test.entry',
      target: 'user:x',
      ip: '192.0.2.1',
    })
    // Something on every operations screen: a run, a finding, a backup, a re-consent campaign, and an
    // inactive contact for the dry run.
    await runRetention(deps, { trigger: 'cli', actor: 'cli' })
    await runMonitor(deps)
    await recordBackup(
      deps,
      { kind: 'd1_export', location: 'd1-export.sql', sizeBytes: 4096 },
      'cli',
    )
    const past = { ...deps, clock: { now: () => Date.now() - 4 * 365 * 86_400_000 } }
    await subscribe(past, {
      email: 'old@exemple.fr',
      purposes: ['cookies'],
      locale: 'fr',
      method: 'api',
      source: 'a11y',
      actor: 'api:a11y',
      evidence: {},
    })
    await publishNotice(deps, {
      purposeKey: 'cookies',
      locale: 'fr',
      title: 'Cookies',
      body: 'Nouveau texte.',
      privacyUrl: '',
      requiresReconsent: true,
    })
    await queueReconsentMails(deps)

    // What the compliance screens show: a special-category field to confirm, processors (one with a
    // webhook, one whose corrections become tasks), an open breach 50 hours old (its clock and the
    // banner on every page), a correction to pass on by hand, and a proof bundle.
    await importGatewayFields(deps)
    const field = await addManualField(deps, { name: 'sante', label: 'Santé', type: 'textarea' })
    if (!field.ok) throw new Error(field.message)
    ids.field = field.field.id
    const crm = await createProcessor(deps, {
      name: 'CRM',
      role: 'processor',
      country: 'US',
      webhook_url: 'https://crm.example.test/gdpr',
    })
    const printer = await createProcessor(deps, {
      name: 'Print shop',
      role: 'processor',
      country: 'BE',
    })
    if (!crm.ok || !printer.ok) throw new Error('processors')
    ids.processor = crm.processor.id
    const incident = await createIncident(
      deps,
      {
        title: 'Laptop stolen',
        detected_at: Date.now() - 50 * 3_600_000,
        nature: ['confidentiality'],
      },
      'cli',
    )
    if (!incident.ok) throw new Error(incident.message)
    ids.incident = incident.incident.id
    const subscribed = await subscribe(deps, {
      email: 'anne@exemple.fr',
      purposes: ['cookies'],
      locale: 'fr',
      method: 'api',
      source: 'a11y',
      actor: 'api:test',
      evidence: { ip: '192.0.2.1' },
      attributes: { first_name: 'Ane' },
    })
    if (!subscribed.ok) throw new Error(subscribed.message)
    await correctContact(deps, (await findContact(deps, subscribed.contactId))!, {
      attributes: { first_name: 'Anne' },
      locale: 'fr',
      email: '',
    })
    const [task] = await listRecipientNotices(deps, { channel: 'task', open: true })
    ids.task = task!.id
    ids.request = task!.request_id!
    const bundle = await createProofBundle(deps, { freshCheckpoint: true }, 'cli')
    if (!bundle.ok) throw new Error(bundle.message)
    ids.bundle = bundle.bundle.id

    part2 = await consoleData(deps, sqlite)
    browser = await launchBrowser()
    const viewport = { width: 360, height: 740 }
    anonymous = await browser.newContext({ bypassCSP: true, viewport })
    pending = await browser.newContext({ bypassCSP: true, viewport })
    signedIn = await browser.newContext({ bypassCSP: true, viewport })
    const signInWith = async (ctx: BrowserContext, code: boolean) => {
      const page = await ctx.newPage()
      await page.goto(`${url}/admin/sign-in?lang=en`)
      await page.locator('#email').fill(owner.email)
      await page.locator('#password').fill(owner.password)
      await page.locator('button[type=submit]').click()
      await page.waitForURL(/second-factor/)
      if (code) {
        await page.locator('#code').fill(totpCode(ownerSecret, Date.now() + 30_000))
        await page
          .locator('form[action^="/admin/sign-in/second-factor"] button[type=submit]')
          .click()
        await page.waitForURL(/\/admin$/)
      }
      await page.close()
    }
    await signInWith(signedIn, true)
    await signInWith(pending, false)
  })
  afterAll(async () => {
    for (const c of [signedIn, pending, anonymous]) await c?.close()
    await browser?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  const PAGES: [string, 'anonymous' | 'pending' | 'signedIn', () => string, number][] = [
    ['sign-in', 'anonymous', () => '/admin/sign-in', 200],
    ['set-up link', 'anonymous', () => `/admin/setup${setupLink}`, 200],
    ['invalid set-up link', 'anonymous', () => '/admin/setup?token=nope', 404],
    ['second factor', 'pending', () => '/admin/sign-in/second-factor', 200],
    ['dashboard', 'signedIn', () => '/admin', 200],
    ['my account', 'signedIn', () => '/admin/account', 200],
    ['users', 'signedIn', () => '/admin/users', 200],
    ['audit log', 'signedIn', () => '/admin/audit', 200],
    // Part 2: every screen, with data to show (a contact, a request, a draft, a form, a dead letter).
    ['contacts', 'signedIn', () => '/admin/contacts', 200],
    ['contacts, nothing found', 'signedIn', () => '/admin/contacts?q=nobody%40acme.example', 404],
    ['a contact', 'signedIn', () => `/admin/contacts/${part2.contactId}`, 200],
    ['printable proof', 'signedIn', () => `/admin/contacts/${part2.contactId}/evidence`, 200],
    ['requests', 'signedIn', () => '/admin/requests', 200],
    ['record a request', 'signedIn', () => '/admin/requests/new', 200],
    ['a request', 'signedIn', () => `/admin/requests/${part2.requestId}`, 200],
    ['purposes', 'signedIn', () => '/admin/purposes', 200],
    ['a purpose with a draft', 'signedIn', () => '/admin/purposes/newsletter', 200],
    ['forms and mappings', 'signedIn', () => '/admin/forms', 200],
    ['integration', 'signedIn', () => '/admin/integration', 200],
    ['integration, dead letters', 'signedIn', () => '/admin/integration?outbox=dead', 200],
    ['API keys', 'signedIn', () => '/admin/keys', 200],
    ['operations', 'signedIn', () => '/admin/operations', 200],
    ['operations: findings', 'signedIn', () => '/admin/operations/findings?status=all', 200],
    ['operations: retention', 'signedIn', () => '/admin/operations/retention', 200],
    ['operations: dry run', 'signedIn', () => '/admin/operations/retention/preview', 200],
    ['operations: quarterly review', 'signedIn', () => '/admin/operations/review', 200],
    ['operations: re-consent', 'signedIn', () => '/admin/operations/reconsent', 200],
    ['operations: backups', 'signedIn', () => '/admin/operations/backups', 200],
    ['step-up', 'signedIn', () => '/admin/step-up', 200],
    ['compliance overview', 'signedIn', () => '/admin/compliance', 200],
    ['data inventory', 'signedIn', () => '/admin/compliance/fields', 200],
    ['a field to confirm', 'signedIn', () => `/admin/compliance/fields/${ids.field}`, 200],
    ['risk report', 'signedIn', () => '/admin/compliance/risks', 200],
    ['record of processing', 'signedIn', () => '/admin/compliance/record', 200],
    ['processors', 'signedIn', () => '/admin/compliance/processors', 200],
    ['a processor', 'signedIn', () => `/admin/compliance/processors/${ids.processor}`, 200],
    ['new processor', 'signedIn', () => '/admin/compliance/processors/new', 200],
    [
      'edit a processor',
      'signedIn',
      () => `/admin/compliance/processors/${ids.processor}/edit`,
      200,
    ],
    ['breaches', 'signedIn', () => '/admin/compliance/incidents', 200],
    [
      'a breach and its clock',
      'signedIn',
      () => `/admin/compliance/incidents/${ids.incident}`,
      200,
    ],
    ['a request’s recipients', 'signedIn', () => `/admin/requests/${ids.request}/recipients`, 200],
    ['recipient tasks', 'signedIn', () => '/admin/compliance/tasks', 200],
    ['a recipient task', 'signedIn', () => `/admin/compliance/tasks/${ids.task}`, 200],
    ['proof bundles', 'signedIn', () => '/admin/compliance/bundles', 200],
    ['a proof bundle', 'signedIn', () => `/admin/compliance/bundles/${ids.bundle}`, 200],
    ['not found', 'signedIn', () => '/admin/nowhere', 404],
  ]

  describe.each(['fr', 'en'] as const)('in %s', (lang) => {
    it.each(PAGES)('%s: no serious or critical violation', async (what, who, path, status) => {
      const ctx = { anonymous, pending, signedIn }[who]
      const page = await ctx.newPage()
      const p = path()
      const target = `${url}${p}${p.includes('?') ? '&' : '?'}lang=${lang}`
      let res = await page.goto(target)
      // Proof bundles ask for a fresh second factor once the sign-in's is over five minutes old.
      if (!p.startsWith('/admin/step-up') && new URL(page.url()).pathname === '/admin/step-up') {
        await page.locator('#code').fill(recoveryCodes.shift()!)
        await page.locator('form[action^="/admin/step-up?"] button[type=submit]').click()
        await page.waitForURL((u) => u.pathname !== '/admin/step-up')
        res = await page.goto(target)
      }
      expect(res?.status()).toBe(status)
      expect(await page.locator('html').getAttribute('lang')).toBe(lang)
      const problems = await violations(page, `${what} [${lang}]`)
      await page.close()
      if (problems.length > 0) console.error(problems.join('\n'))
      expect(problems).toEqual([])
    })
  })

  it.each(['fr', 'en'] as const)(
    'the webhook secret, shown once, and a form refused with its errors (%s)',
    async (lang) => {
      const page = await signedIn.newPage()
      await page.goto(`${url}/admin/compliance/processors/new?lang=${lang}`)
      await page.locator('#p-name').fill(`Webhook receiver ${lang}`)
      await page.locator('#p-country').fill('DE')
      await page.locator('#p-webhook').fill('https://receiver.example.test/hook')
      await page
        .locator('form[action^="/admin/compliance/processors?"] button[type=submit]')
        .click()
      await page.waitForSelector('input.secret')
      expect(await page.locator('input.secret').inputValue()).toMatch(/^whsec_/)
      expect(await violations(page, `webhook secret [${lang}]`)).toEqual([])
      await page.goto(`${url}/admin/compliance/incidents/${ids.incident}?lang=${lang}`)
      // A time in the future, past the browser's own check: the page answers with its error.
      await page.evaluate(() => {
        const input = document.querySelector<HTMLInputElement>('#n-at')!
        input.form!.noValidate = true
        input.value = '2999-01-01T00:00'
      })
      await page.locator('form[action*="/authority?"] button[type=submit]').click()
      await page.waitForSelector('.errors')
      expect(await violations(page, `breach form refused [${lang}]`)).toEqual([])
      await page.close()
    },
  )

  it.each(['fr', 'en'] as const)(
    'the TOTP enrolment and recovery codes pages (%s)',
    async (lang) => {
      const ctx = await browser.newContext({
        bypassCSP: true,
        viewport: { width: 360, height: 740 },
      })
      const page = await ctx.newPage()
      const invited = await createAccount(
        deps,
        { email: `a11y-${lang}@acme.example`, role: 'admin', mail: false },
        { actor: 'cli' },
      )
      if (!invited.ok) throw new Error(invited.error)
      await page.goto(`${invited.url.replace(/^http:\/\/localhost:8787/, url)}&lang=${lang}`)
      await page.locator('#password').fill('violet tractor harbour giraffe 42')
      await page.locator('#confirm').fill('violet tractor harbour giraffe 42')
      await page.locator('button[type=submit]').click()
      await page.waitForURL(/enrol\/totp/)
      await page.goto(`${url}/admin/enrol/totp?lang=${lang}`)
      expect(await violations(page, `enrolment [${lang}]`)).toEqual([])
      const secret = (await page.locator('code.secret').innerText()).replace(/\s+/g, '')
      await page.locator('#code').fill(totpCode(secret, Date.now()))
      await page.locator('form[action^="/admin/enrol/totp"] button[type=submit]').click()
      await page.waitForSelector('.codes')
      expect(await violations(page, `recovery codes [${lang}]`)).toEqual([])
      await ctx.close()
    },
  )
})
