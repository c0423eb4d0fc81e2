/** @module In-process scenarios: the gate by contact id and by e-mail in batches, recording an event. */
import { contactDataKey } from '../../src/domain/platform/contacts.ts'
import { gateBatch } from '../../src/domain/sending/gate.ts'
import { recordConsentEvents } from '../../src/domain/consent/ledger.ts'
import { enqueueQuery } from '../../src/domain/platform/outbox.ts'
import { startCheckpointer } from '../../src/runtime/node/checkpointer.ts'
import type { InprocOp } from '../types.ts'
import { seededCopyDeps, seededDeps, seededEmail, SEEDED_CONTACTS } from '../apps/seeded-app.ts'
import type Database from 'better-sqlite3'
import type { Deps } from '../../src/deps.ts'

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!

export async function gateById(): Promise<InprocOp> {
  const { deps, ids, close } = await seededDeps()
  return { op: () => gateBatch(deps, 'newsletter', [{ contact_id: pick(ids) }]), close }
}

/**
 * As the Node runtime writes (startServer in src/runtime/node/server.ts): SQLite's inline checkpoint
 * off, WAL checkpoints from the worker thread instead. Left on, every ~150th commit here copied 1,000
 * WAL pages into the file and synced it, which cost ~40 % of the rate (5,000 vs 7,400 events/s).
 */
export async function recordEvent(): Promise<InprocOp> {
  const { deps, ids, sqlite, close } = await seededDeps()
  return recordEventOn(deps, sqlite, ids, close)
}

/** Events for 200 of `ids` in turn, granted and withdrawn, each with its state and an outbox row. */
async function recordEventOn(
  deps: Deps,
  sqlite: Database.Database,
  ids: string[],
  close: () => void,
): Promise<InprocOp> {
  const checkpoints = startCheckpointer(sqlite, (m) => console.error(`checkpoint: ${m}`))
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
            kind: 'mautic.mirror',
            payload: { contactId: contact.id },
            orderingKey: contact.id,
          }),
        ],
      )
    },
    close: async () => {
      await checkpoints?.stop()
      close()
    },
  }
}

/** 1,000 addresses per call, each hashed to its blind index, decided in one json_each query. */
export async function gateBatchByEmail(): Promise<InprocOp> {
  const { deps, close } = await seededDeps()
  const batch = () =>
    Array.from({ length: 1_000 }, () => ({
      email: seededEmail(Math.floor(Math.random() * SEEDED_CONTACTS)),
    }))
  return { op: () => gateBatch(deps, 'newsletter', batch()), close }
}

/** This run's copy of the large seeded database, and ids spread over it (bench/seed/cache.ts). */
async function onSeededCopy() {
  const { deps, sqlite, meta, close } = await seededCopyDeps()
  return { deps, sqlite, ids: meta.build.sample.map((s) => s.id), contacts: meta.contacts, close }
}

/** The gate by contact id on the large seeded database: contacts picked all over it. */
export async function gateByIdSeeded(): Promise<InprocOp> {
  const { deps, ids, close } = await onSeededCopy()
  return { op: () => gateBatch(deps, 'newsletter', [{ contact_id: pick(ids) }]), close }
}

/** Recording an event on the large seeded database, its checkpointer running as under npm start. */
export async function recordEventSeeded(): Promise<InprocOp> {
  const { deps, sqlite, ids, close } = await onSeededCopy()
  return recordEventOn(deps, sqlite, ids, close)
}

/** The batch gate by e-mail on the large seeded database: addresses from all over it. */
export async function gateBatchByEmailSeeded(): Promise<InprocOp> {
  const { deps, contacts, close } = await onSeededCopy()
  const batch = () =>
    Array.from({ length: 1_000 }, () => ({
      email: seededEmail(Math.floor(Math.random() * contacts)),
    }))
  return { op: () => gateBatch(deps, 'newsletter', batch()), close }
}
