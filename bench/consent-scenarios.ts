/** @module In-process scenarios of the consent ledger issue: the gate by contact id, recording an event. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../src/config.ts'
import type { Deps } from '../src/deps.ts'
import { contactDataKey } from '../src/domain/contacts.ts'
import { gateBatch } from '../src/domain/gate-check.ts'
import { recordConsentEvents } from '../src/domain/ledger.ts'
import { enqueueQuery } from '../src/domain/outbox.ts'
import { subscribe } from '../src/domain/subscriptions.ts'
import { jsonLogger } from '../src/lib/log.ts'
import { nodeDeps } from '../src/runtime/node/deps.ts'
import { applyMigrations, openSqlite } from '../src/runtime/node/sqlite.ts'
import type { InprocOp } from './scenarios.ts'

const CONTACTS = 2_000
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** A gateway database in a temp file with CONTACTS contacts who granted `cookies` and `newsletter`. */
async function seeded(): Promise<{ deps: Deps; ids: string[]; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-consent-'))
  const sqlite = openSqlite(join(dir, 'gw.db'))
  applyMigrations(sqlite)
  const config = { ...parseConfig({ APP_SECRET: SECRET }), appSecret: SECRET }
  const deps = await nodeDeps({ config, sqlite, logger: jsonLogger(() => {}) })
  const ids: string[] = []
  for (let i = 0; i < CONTACTS; i++) {
    const r = await subscribe(deps, {
      email: `bench${i}@example.test`,
      purposes: ['cookies', 'newsletter'],
      locale: 'fr',
      method: 'api',
      source: 'bench',
      actor: 'bench',
      evidence: { ip: '192.0.2.1' },
    })
    if (r.ok) ids.push(r.contactId)
  }
  sqlite.exec("UPDATE consent_state SET status = 'granted' WHERE status = 'pending'")
  return { deps, ids, close: () => (sqlite.close(), rmSync(dir, { recursive: true, force: true })) }
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!

export async function gateById(): Promise<InprocOp> {
  const { deps, ids, close } = await seeded()
  return { op: () => gateBatch(deps, 'newsletter', [{ contact_id: pick(ids) }]), close }
}

export async function recordEvent(): Promise<InprocOp> {
  const { deps, ids, close } = await seeded()
  const contacts = await Promise.all(
    ids.slice(0, 200).map(async (id) => {
      const row = (await deps.db
        .selectFrom('contacts')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst())!
      return { id, dataKey: await contactDataKey(deps, row) }
    }),
  )
  let flip = false
  return {
    op: () => {
      const contact = contacts[Math.floor(Math.random() * contacts.length)]!
      flip = !flip
      const now = deps.clock.now()
      return recordConsentEvents(
        deps,
        contact,
        [
          {
            purposeKey: 'cookies',
            action: flip ? 'withdrawn' : 'granted',
            noticeId: 'n_cookies_fr_1',
            method: 'bench',
            source: 'bench',
            evidence: { ip: '192.0.2.1' },
            actor: 'bench',
            occurredAt: now,
          },
        ],
        [
          enqueueQuery(deps.db, now, {
            kind: 'mautic.sync',
            payload: { contactId: contact.id },
            orderingKey: contact.id,
          }),
        ],
      )
    },
    close,
  }
}
