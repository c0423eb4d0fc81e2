/**
 * @module The record of backups (GDPR Art. 32(1)(c): the ability to restore the availability of and
 * access to personal data in a timely manner). `consent-gateway backup` records each file it writes;
 * on Workers, where D1 Time Travel keeps 30 days by itself, an export (`wrangler d1 export`) is
 * recorded through the admin API. The monitor compares the latest with BACKUP_MAX_AGE_HOURS.
 */
import type { BackupKind } from '../../db/database.ts'
import { insertBackupQuery, listBackups, type BackupRow } from '../../db/repositories/backups.ts'
import type { Deps } from '../../deps.ts'
import { uuidv7 } from '../../lib/ids.ts'

export const BACKUP_KINDS: readonly BackupKind[] = ['sqlite', 'sealed', 'd1_export', 'other']

export interface NewBackup {
  kind: BackupKind
  /** The file's name or where the backup went, as the operator gives it (no secret in it). */
  location: string
  takenAt?: number
  sizeBytes?: number | null
  sha256?: string | null
}

export interface BackupView {
  id: string
  taken_at: string
  kind: BackupKind
  location: string
  size_bytes: number | null
  sha256: string | null
  recorded_by: string
}

const view = (r: BackupRow): BackupView => ({
  id: r.id,
  taken_at: new Date(r.taken_at).toISOString(),
  kind: r.kind,
  location: r.location,
  size_bytes: r.size_bytes,
  sha256: r.sha256,
  recorded_by: r.recorded_by,
})

export async function recordBackup(
  deps: Pick<Deps, 'db' | 'atomic' | 'clock'>,
  b: NewBackup,
  recordedBy: string,
): Promise<BackupView> {
  const now = deps.clock.now()
  const row: BackupRow = {
    id: uuidv7(now),
    taken_at: b.takenAt ?? now,
    kind: b.kind,
    location: b.location.slice(0, 500),
    size_bytes: b.sizeBytes ?? null,
    sha256: b.sha256 ?? null,
    recorded_by: recordedBy.slice(0, 200),
    created_at: now,
  }
  await deps.atomic([insertBackupQuery(deps.db, row)])
  return view(row)
}

export const recentBackups = async (deps: Pick<Deps, 'db'>, limit = 20) =>
  (await listBackups(deps.db, limit)).map(view)

export interface BackupStatus {
  last: BackupView | null
  /** Seconds since the last backup was taken; null when none was. */
  age_seconds: number | null
  /** BACKUP_MAX_AGE_HOURS; null when not checked. */
  max_age_hours: number | null
  stale: boolean
}

export async function backupStatus(
  deps: Pick<Deps, 'db' | 'clock' | 'config'>,
): Promise<BackupStatus> {
  const [last] = await listBackups(deps.db, 1)
  const max = deps.config.operations.backupMaxAgeHours ?? null
  const age = last ? Math.max(0, Math.floor((deps.clock.now() - last.taken_at) / 1000)) : null
  return {
    last: last ? view(last) : null,
    age_seconds: age,
    max_age_hours: max,
    stale: max !== null && (age === null || age > max * 3600),
  }
}
