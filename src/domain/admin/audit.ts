/**
 * @module The audit log (GDPR Art. 5(2) accountability, Art. 32 security of processing): every admin
 * action and every sign-in attempt, who, what, on what, when and from where, in one hash chain like the
 * consent ledger (src/domain/consent/ledger.ts). The chain is global: audit rows are few, so writers
 * rarely race, and the loser of a race on `seq` rebuilds its unit from the new head. The signed
 * checkpoints (src/domain/consent/checkpoints.ts) cover the head, so a cut tail is detected too.
 * Never a password, a code or a token: `details` is filtered before it is written.
 */
import type { CompiledQuery } from 'kysely'
import {
  auditPage,
  findAuditHead,
  insertAuditQuery,
  listAuditRows,
  type AuditFilter,
  type AuditRow,
} from '../../db/repositories/audit.ts'
import type { Deps } from '../../deps.ts'
import { toHex, utf8 } from '../../lib/encoding.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { webSha256, type Sha256 } from '../../lib/keys.ts'

export const AUDIT_GENESIS_HASH = '0'.repeat(64)
const MAX_ATTEMPTS = 8

export type { AuditRow, AuditFilter }

export interface AuditEntry {
  /** 'admin:<id>', 'api:<key id>', 'cli', 'system', 'anonymous'. */
  actor: string
  /** Dotted name: signin.password, signin.totp, user.invite, apikey.create … */
  action: string
  outcome?: AuditRow['outcome']
  /** What the action was on: 'user:<id>', 'apikey:<id>', 'session:<id prefix>' … */
  target?: string | null
  ip?: string | null
  userAgent?: string | null
  details?: Record<string, unknown>
}

/** Keys whose values never reach the log, whatever a caller passes. */
const SECRET_KEY = /pass|^code$|codes|token|secret|otp|cookie|credential/i

export function safeDetails(details: Record<string, unknown> = {}): string {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(details)) {
    if (SECRET_KEY.test(k)) continue
    if (v === undefined) continue
    out[k] = typeof v === 'string' ? v.slice(0, 500) : v
  }
  return JSON.stringify(out)
}

export async function auditHash(e: Omit<AuditRow, 'hash'>, sha256: Sha256 = webSha256) {
  const canonical = JSON.stringify([
    e.seq,
    e.id,
    e.at,
    e.actor,
    e.action,
    e.outcome,
    e.target,
    e.ip,
    e.user_agent,
    e.details,
    e.prev_hash,
  ])
  return toHex(await sha256(utf8(canonical)))
}

async function buildAuditRow(
  deps: Pick<Deps, 'clock' | 'sha256'>,
  head: { seq: number; hash: string },
  entry: AuditEntry,
): Promise<AuditRow> {
  const at = deps.clock.now()
  const partial = {
    seq: head.seq + 1,
    id: uuidv7(at),
    at,
    actor: entry.actor.slice(0, 200),
    action: entry.action.slice(0, 100),
    outcome: entry.outcome ?? 'ok',
    target: entry.target?.slice(0, 200) ?? null,
    ip: entry.ip?.slice(0, 100) ?? null,
    user_agent: entry.userAgent?.slice(0, 300) ?? null,
    details: safeDetails(entry.details),
    prev_hash: head.hash,
  }
  return { ...partial, hash: await auditHash(partial, deps.sha256) }
}

const isAuditRace = (err: unknown) =>
  /UNIQUE constraint failed: audit_log\.seq/.test(String((err as Error)?.message))

export type AuditDeps = Pick<Deps, 'db' | 'atomic' | 'clock' | 'sha256'>

/**
 * Appends an audit entry, together with `extra` (the change it records) as one atomic unit: the
 * change and its record are written together or not at all. Retries when another writer took the seq.
 */
export async function recordAudit(
  deps: AuditDeps,
  entry: AuditEntry,
  extra: CompiledQuery[] = [],
): Promise<AuditRow> {
  for (let attempt = 1; ; attempt++) {
    const head = (await findAuditHead(deps.db)) ?? { seq: 0, hash: AUDIT_GENESIS_HASH }
    const row = await buildAuditRow(deps, head, entry)
    try {
      await deps.atomic([...extra, insertAuditQuery(deps.db, row)])
      return row
    } catch (err) {
      if (!isAuditRace(err) || attempt >= MAX_ATTEMPTS) throw err
    }
  }
}

export interface AuditReport {
  ok: boolean
  entries: number
  head: { seq: number; hash: string } | null
  problems: string[]
}

/** Walks the whole chain; reports the first broken link. */
export async function verifyAuditChain(
  deps: Pick<Deps, 'db'>,
  pageSize = 1000,
): Promise<AuditReport> {
  const problems: string[] = []
  let prev = { seq: 0, hash: AUDIT_GENESIS_HASH }
  let entries = 0
  let broken = false
  for (let after = 0; ;) {
    const page = await auditPage(deps.db, after, pageSize)
    for (const row of page) {
      entries++
      if (broken) continue
      const where = `audit entry ${row.seq}`
      if (row.seq !== prev.seq + 1)
        problems.push(`${where}: expected entry ${prev.seq + 1} (an entry is missing)`)
      else if (row.prev_hash !== prev.hash)
        problems.push(`${where}: does not link to the previous entry`)
      else if ((await auditHash(row)) !== row.hash)
        problems.push(`${where}: its content does not match its hash (altered)`)
      else {
        prev = { seq: row.seq, hash: row.hash }
        continue
      }
      broken = true
    }
    const last = page.at(-1)
    if (!last || page.length < pageSize) break
    after = last.seq
  }
  return { ok: problems.length === 0, entries, head: entries ? prev : null, problems }
}

export const listAudit = (deps: Pick<Deps, 'db'>, filter: AuditFilter) =>
  listAuditRows(deps.db, { ...filter, limit: Math.min(Math.max(1, filter.limit), 10_000) })

const CSV_COLUMNS = [
  'seq',
  'at',
  'actor',
  'action',
  'outcome',
  'target',
  'ip',
  'user_agent',
  'details',
  'prev_hash',
  'hash',
] as const

/** A CSV cell: quoted, and a leading = + - @ neutralised (spreadsheet formula injection). */
const csvCell = (v: unknown) => {
  let s = v === null || v === undefined ? '' : String(v)
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return `"${s.replace(/"/g, '""')}"`
}

export function auditCsv(rows: AuditRow[]): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const r of rows)
    lines.push(
      CSV_COLUMNS.map((c) => csvCell(c === 'at' ? new Date(r.at).toISOString() : r[c])).join(','),
    )
  return lines.join('\r\n') + '\r\n'
}

export function auditJson(rows: AuditRow[]) {
  return rows.map((r) => ({
    ...r,
    at_iso: new Date(r.at).toISOString(),
    details: JSON.parse(r.details) as unknown,
  }))
}
