// `consent-gateway backup` and `restore` through the real bin: a backup taken while the gateway writes
// (another connection, in this process) restores into a new file that passes `verify-ledger`; sealed
// with --encrypt, it opens only under the same APP_SECRET; nothing is ever overwritten. Most refusals
// are checked in this process (a spawned bin costs seconds on a shared machine).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { maybeCheckpoint } from '../../../src/domain/consent/checkpoints.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { recentBackups } from '../../../src/domain/operations/backups.ts'
import { backup, restore } from '../../../src/cli/backup.ts'
import { UsageError } from '../../../src/cli/args.ts'
import { verifyEverything } from '../../../src/domain/admin/verify.ts'
import { jsonLogger } from '../../../src/lib/log.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { openDatabase } from '../../../src/runtime/node/server.ts'
import { API_CONSENT, TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin } from '../../helpers/spawn.ts'

async function run(args: string[], cwd: string, env: Record<string, string>) {
  const s = spawnBin(args, { cwd, env })
  let stdout = ''
  let stderr = ''
  s.child.stdout!.on('data', (d) => (stdout += d))
  s.child.stderr!.on('data', (d) => (stderr += d))
  return { code: await s.exited, stdout, stderr }
}

describe('consent-gateway backup / restore', () => {
  it(
    'a backup taken under write load restores to a database that passes verify-ledger',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-backup-'))
      const env = { DATABASE_PATH: join(dir, 'live.db'), APP_SECRET: TEST_SECRET }
      const sqlite = openDatabase(env.DATABASE_PATH)
      const deps = await nodeDeps({
        config: { ...parseConfig(env), appSecret: TEST_SECRET },
        sqlite,
        logger: jsonLogger(() => {}),
      })
      const count = (table: string) =>
        (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
      let written = 0
      const add = async () => {
        const r = await subscribe(deps, {
          ...API_CONSENT,
          email: `p${written++}@exemple.fr`,
          purposes: ['cookies', 'geolocation'],
        })
        if (!r.ok) throw new Error(r.message)
      }
      for (let i = 0; i < 200; i++) await add()
      await maybeCheckpoint(deps, true)

      // The gateway keeps writing (and signing checkpoints) while both backups are taken.
      let stop = false
      const load = (async () => {
        for (let i = 0; !stop; i++) {
          await add()
          if (i % 50 === 0) await maybeCheckpoint(deps, true)
        }
      })()
      const before = count('consent_events')
      const [plain, sealed] = await Promise.all([
        run(['backup', '--out', join(dir, 'plain.db')], dir, env),
        run(['backup', '--out', join(dir, 'sealed.cgb'), '--encrypt'], dir, env),
      ])
      stop = true
      await load
      expect(plain.code, plain.stderr).toBe(0)
      expect(plain.stdout.trim()).toBe(join(dir, 'plain.db'))
      expect(sealed.code, sealed.stderr).toBe(0)
      expect(count('consent_events')).toBeGreaterThan(before) // writes went on meanwhile

      // Both recorded for the monitor, with their size and hash.
      const recorded = await recentBackups(deps)
      expect(recorded.map((b) => b.kind).sort()).toEqual(['sealed', 'sqlite'])
      expect(recorded[0]!.sha256).toMatch(/^[0-9a-f]{64}$/)
      sqlite.close()

      // The plain file restores into a new file, which verifies and holds at least what was
      // committed before the backup began.
      const restored = join(dir, 'restored.db')
      const r = await run(['restore', join(dir, 'plain.db'), '--out', restored], dir, env)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toMatch(/\d+ consent event\(s\)/)
      const events = Number(/(\d+) consent event\(s\)/.exec(r.stderr)![1])
      expect(events).toBeGreaterThanOrEqual(before)
      const verified = await run(['verify-ledger'], dir, { ...env, DATABASE_PATH: restored })
      expect(verified.code, verified.stdout + verified.stderr).toBe(0)
      expect(verified.stdout).toMatch(/^Ledger verified: \d+ chains, \d+ events/)

      // Sealed: no SQLite in clear; it opens with the same APP_SECRET only (in this process).
      const bytes = readFileSync(join(dir, 'sealed.cgb'))
      expect(bytes.subarray(0, 10).toString('latin1')).toBe('CGBACKUP1\n')
      expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false)
      const other = { ...env, APP_SECRET: 'another-secret-0123456789-abcdefghijklmnopq' }
      await expect(
        restore([join(dir, 'sealed.cgb'), '--out', join(dir, 'x.db')], other),
      ).rejects.toThrow('sealed under another APP_SECRET')
      expect(existsSync(join(dir, 'x.db'))).toBe(false)
      const opened = join(dir, 'from-sealed.db')
      expect(await restore([join(dir, 'sealed.cgb'), '--out', opened], env)).toBe(0)
      const copy = openDatabase(opened)
      try {
        const copyDeps = await nodeDeps({
          config: { ...parseConfig(env), appSecret: TEST_SECRET },
          sqlite: copy,
          logger: jsonLogger(() => {}),
        })
        expect((await verifyEverything(copyDeps)).ok).toBe(true)
      } finally {
        copy.close()
      }

      // A cut sealed file is refused, as is a file that is no database.
      writeFileSync(join(dir, 'cut.cgb'), bytes.subarray(0, bytes.length - 100))
      await expect(
        restore([join(dir, 'cut.cgb'), '--out', join(dir, 'y.db')], env),
      ).rejects.toThrow(/cannot be opened/)
      writeFileSync(join(dir, 'junk.db'), 'not a database at all')
      await expect(
        restore([join(dir, 'junk.db'), '--out', join(dir, 'z.db')], env),
      ).rejects.toThrow(/not a SQLite database|integrity|cannot be read/)
      expect(existsSync(join(dir, 'y.db')) || existsSync(join(dir, 'z.db'))).toBe(false)
    },
  )

  it('never overwrites: an existing output, the live database; and needs its arguments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-backup-refuse-'))
    const env = { DATABASE_PATH: join(dir, 'live.db'), APP_SECRET: TEST_SECRET }
    openDatabase(env.DATABASE_PATH).close()
    expect(await backup(['--out', join(dir, 'b.db')], env)).toBe(0)
    await expect(backup(['--out', join(dir, 'b.db')], env)).rejects.toThrow('exists')
    await expect(restore([join(dir, 'b.db'), '--out', env.DATABASE_PATH], env)).rejects.toThrow(
      'live database',
    )
    await expect(restore([join(dir, 'b.db'), '--out', join(dir, 'b.db')], env)).rejects.toThrow(
      'exists',
    )
    await expect(backup([], env)).rejects.toThrow(UsageError)
    await expect(restore([join(dir, 'b.db')], env)).rejects.toThrow(UsageError)
    await expect(
      backup(['--out', join(dir, 'c.db')], { ...env, DATABASE_PATH: join(dir, 'nothing.db') }),
    ).rejects.toThrow('nothing to back up')
    expect(existsSync(join(dir, 'nothing.db'))).toBe(false)
    // File-level by nature: no --url (the bin refuses it with exit 2).
    const remote = await run(
      ['backup', '--out', 'x.db', '--url', 'http://x.test', '--key', 'k'],
      dir,
      env,
    )
    expect(remote.code).toBe(2)
  }, 60_000)
})
