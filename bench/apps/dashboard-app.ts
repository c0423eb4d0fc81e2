/**
 * @module The admin dashboard (GET /admin) served as `npm start` serves it, for a signed-in staff
 * member: on the database at `databasePath` (the seeded database of a million contacts, once built,
 * its counters filled as the gateway fills them), or, without one, on a small database of 90 days of
 * activity made here through the gateway's own code (subscriptions, confirmations, withdrawals,
 * refusals, requests, Mautic webhooks), so that every day of every plot has something to draw. That
 * one is kept between runs in the system's temporary folder (SMALL_DB_VERSION names it) and copied
 * for each server. The session is made through the domain (an account, then a session whose second
 * factor counts as checked) in a short child process before the server opens the file: setting the
 * account's password runs the strength check, whose dictionaries (zxcvbn) would otherwise stay in the
 * server's peak RSS, which is meant to show what serving the dashboard takes. The cookie travels to
 * the load generator as a request header.
 */
import type Database from 'better-sqlite3'
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config.ts'
import type { Deps } from '../../src/deps.ts'
import { completeSetupPassword, createAccount, openSetup } from '../../src/domain/admin/accounts.ts'
import { recordStaffRequest } from '../../src/domain/admin/requests.ts'
import { newSession, SESSION_COOKIE } from '../../src/domain/admin/sessions.ts'
import { recordConsentEvents } from '../../src/domain/consent/ledger.ts'
import { subscribe } from '../../src/domain/consent/subscriptions.ts'
import { withdraw } from '../../src/domain/consent/withdrawal.ts'
import { contactDataKey, findContact } from '../../src/domain/platform/contacts.ts'
import { flushCounters, tallyRefusals } from '../../src/domain/platform/counters.ts'
import { jsonLogger } from '../../src/lib/log.ts'
import { nodeDeps } from '../../src/runtime/node/deps.ts'
import { openDatabase } from '../../src/runtime/node/server.ts'
import { nextWebhook, WEBHOOK_HEADERS } from './webhook-requests.ts'
import type { RunningApp } from './running-app.ts'
import { APP_SECRET, WEBHOOK_SECRET } from '../secrets.ts'
import { serveBench } from './seeded-app.ts'

/** Change it when the small database's making changes: the kept copy is made again. */
const SMALL_DB_VERSION = 'v1'
const DAY = 86_400_000

async function depsOn(sqlite: Database.Database, clock?: { now(): number }): Promise<Deps> {
  const config = {
    ...parseConfig({
      APP_SECRET,
      PUBLIC_URL: 'https://gateway.bench',
      MAUTIC_WEBHOOK_SECRET: WEBHOOK_SECRET,
    }),
    appSecret: APP_SECRET,
  }
  return nodeDeps({ config, sqlite, clock, logger: jsonLogger(() => {}), pbkdf2Iterations: 1000 })
}

/** 90 days of a small gateway's life, written through its own code, day after day. */
async function makeSmallDatabase(path: string): Promise<void> {
  const sqlite = openDatabase(path)
  let now = Date.now() - 90 * DAY
  const deps = await depsOn(sqlite, { now: () => now })
  const app = createApp(deps)
  const by = { actor: 'bench' }
  for (let day = 0; day < 90; day++, now += DAY) {
    const ids: string[] = []
    for (let i = 0; i < 12; i++) {
      const r = await subscribe(deps, {
        email: `d${day}-${i}@example.test`,
        purposes: ['newsletter', 'cookies'],
        locale: i % 3 ? 'fr' : 'en',
        method: i % 2 ? 'form' : 'api',
        source: ['form:home', 'form:footer', 'api:website'][i % 3]!,
        actor: 'bench',
        evidence: { ip: '192.0.2.1' },
      })
      if (r.ok) ids.push(r.contactId)
    }
    // Two thirds confirm, after minutes to days; a few withdraw.
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 2) continue
      const contact = (await findContact(deps, id))!
      await recordConsentEvents(deps, { id, dataKey: await contactDataKey(deps, contact) }, [
        {
          purposeKey: 'newsletter',
          action: 'confirmed',
          noticeId: null,
          method: 'double_opt_in',
          source: ['form:home', 'form:footer', 'api:website'][i % 3]!,
          evidence: null,
          actor: 'contact',
          occurredAt: now + (i + 1) * 37 * 60_000,
        },
      ])
    }
    for (const id of ids.slice(0, 2))
      await withdraw(deps, id, ['cookies'], {
        method: 'one_click',
        source: 'bench',
        actor: 'contact',
        evidence: {},
      })
    for (const place of ['gate_api', 'send_api', 'relay_rcpt', 'campaign_gate'] as const)
      tallyRefusals(deps, place, 'newsletter', ['unknown_contact', 'withdrawn', 'no_consent'])
    await flushCounters(deps)
    await recordStaffRequest(deps, { kind: day % 2 ? 'access' : 'erase', via: 'email' }, by)
    for (let i = 0; i < 5; i++) {
      const { body, headers } = nextWebhook()
      const res = await app.request('/hooks/mautic', {
        method: 'POST',
        body: new Uint8Array(body),
        headers: { ...WEBHOOK_HEADERS, ...headers },
      })
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`)
    }
  }
  sqlite.pragma('wal_checkpoint(TRUNCATE)')
  sqlite.close()
}

/** The small database, made once and kept; a copy of it for one server. */
async function smallDatabaseCopy(): Promise<{ path: string; remove: () => void }> {
  const kept = join(tmpdir(), `cg-bench-dashboard-${SMALL_DB_VERSION}`, 'gw.db')
  if (!existsSync(kept)) {
    mkdirSync(join(kept, '..'), { recursive: true })
    const making = `${kept}.${process.pid}.making`
    await makeSmallDatabase(making)
    renameSync(making, kept)
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-dashboard-'))
  copyFileSync(kept, join(dir, 'gw.db'))
  return { path: join(dir, 'gw.db'), remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** A viewer (the dashboard is theirs to read, without a second factor) and a live session. */
async function staffSession(deps: Deps): Promise<string> {
  const email = `bench-${Date.now().toString(36)}@staff.example`
  const created = await createAccount(
    deps,
    { email, role: 'viewer', mail: false },
    { actor: 'cli' },
  )
  if (!created.ok) throw new Error(created.error)
  const access = await openSetup(deps, new URL(created.url).searchParams.get('token')!, undefined)
  if (!access.ok) throw new Error(access.reason)
  const password = 'violet tractor harbour giraffe 42'
  const set = await completeSetupPassword(
    deps,
    access,
    { password, confirm: password, locale: 'fr' },
    { actor: 'cli' },
  )
  if (!set.ok) throw new Error(set.error)
  const session = await newSession(deps, set.user.id, { secondFactor: true })
  await deps.atomic([session.query])
  return `${SESSION_COOKIE}=${session.token}`
}

/** Signs a viewer in on the file at `path` in a child process (see above); returns the cookie. */
function staffSessionApart(path: string): string {
  const out = execFileSync(process.execPath, ['--import', 'tsx', THIS_FILE, 'session', path], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return out.trim().split('\n').at(-1)!
}

const THIS_FILE = fileURLToPath(import.meta.url)

/** Serves the dashboard on `databasePath`, or on a copy of the small database when there is none. */
export async function dashboardApp(databasePath?: string): Promise<RunningApp> {
  const small = databasePath ? undefined : await smallDatabaseCopy()
  const path = databasePath ?? small!.path
  const cookie = staffSessionApart(path)
  const sqlite = openDatabase(path)
  const deps = await depsOn(sqlite)
  const served = await serveBench(deps, sqlite)
  return {
    port: served.port,
    headers: { Cookie: cookie },
    close: async () => {
      await served.close()
      sqlite.close()
      small?.remove()
    },
  }
}

// The child of `staffSessionApart`: `node --import tsx bench/apps/dashboard-app.ts session FILE`.
if (process.argv[1] === THIS_FILE && process.argv[2] === 'session' && process.argv[3]) {
  const sqlite = openDatabase(process.argv[3])
  const cookie = await staffSession(await depsOn(sqlite))
  sqlite.pragma('wal_checkpoint(TRUNCATE)')
  sqlite.close()
  console.log(cookie)
}
