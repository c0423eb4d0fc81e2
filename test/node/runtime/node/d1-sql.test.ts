// --d1-sql (src/runtime/node/d1-sql.ts): a command's changes to a local copy, as SQL for
// `wrangler d1 execute`. In-process: the SQL turns another copy into the same data; then the whole
// user flow with the real wrangler on a local D1 (create the first key, export, revoke it).
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { diffAsSql, openD1Copy, snapshot, sqlLiteral } from '../../../../src/runtime/node/d1-sql.ts'
import { BIN } from '../../../helpers/spawn.ts'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const dump = (db: ReturnType<typeof openD1Copy>, table: string) =>
  db.prepare(`SELECT * FROM ${table} ORDER BY 1`).all()

describe('--d1-sql: the changes as SQL', () => {
  it('inserts (upserts on the key), updates changed columns only, deletes, parents first', () => {
    const db = openD1Copy(undefined)
    db.prepare("INSERT INTO mautic_email_purposes VALUES ('email', '1', 'newsletter', 1)").run()
    db.prepare("INSERT INTO mautic_email_purposes VALUES ('email', '2', 'newsletter', 1)").run()
    const remote = snapshot(db) // the real database, as the copy was made
    const before = snapshot(db)
    db.prepare(
      "INSERT INTO contacts (id, email_bidx, bidx_kid, data_key_enc, locale, status, created_at, updated_at) VALUES ('c1', 'b1', 'k1', 'x', 'fr', 'active', 1, 1)",
    ).run()
    db.prepare("INSERT INTO contact_links VALUES ('mautic', '7', 'c1', 2)").run()
    db.prepare(
      "UPDATE mautic_email_purposes SET purpose_key = 'email_marketing' WHERE ref = '1'",
    ).run()
    db.prepare("DELETE FROM mautic_email_purposes WHERE ref = '2'").run()
    db.prepare(
      "INSERT INTO webhook_health (source, webhook_url) VALUES ('mautic', 'line\nbreak')",
    ).run()
    const statements = diffAsSql(before, db)
    expect(statements.findIndex((s) => s.includes('"contacts"'))).toBeLessThan(
      statements.findIndex((s) => s.includes('"contact_links"')),
    )
    expect(statements).toContain(
      `UPDATE "mautic_email_purposes" SET "purpose_key" = 'email_marketing' WHERE "kind" = 'email' AND "ref" = '1';`,
    )
    expect(statements.every((s) => !s.includes('\n'))).toBe(true) // one statement a line
    // The Worker wrote a health row meanwhile: the command's row wins, nothing fails.
    remote
      .prepare("INSERT INTO webhook_health (source, last_received_at) VALUES ('mautic', 5)")
      .run()
    remote.exec(['PRAGMA defer_foreign_keys = true;', ...statements].join('\n'))
    for (const t of ['contacts', 'contact_links', 'mautic_email_purposes', 'webhook_health'])
      expect(dump(remote, t)).toEqual(dump(db, t))
    expect(sqlLiteral(new Uint8Array([1, 255]))).toBe("X'01ff'")
    expect(sqlLiteral("l'été")).toBe("'l''été'")
  })

  it('refuses an export that lacks a migration of this code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-d1x-'))
    const file = join(dir, 'old.sql')
    writeFileSync(
      file,
      "CREATE TABLE d1_migrations(id INTEGER PRIMARY KEY, name TEXT, applied_at TEXT);\nINSERT INTO d1_migrations VALUES (1, '0001_init.sql', 'x');\n",
    )
    expect(() => openD1Copy(file)).toThrow(
      /lacks the migrations 0002_consent\.sql.*migrations apply/,
    )
  })
})

describe('--d1-sql with the real wrangler on a local D1', () => {
  it('creates the first API key, then revokes it from an export', { timeout: 180_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'cg-d1w-'))
    // A project with the same wrangler.toml and migrations; the Worker code is not needed here.
    const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8').replace(/\[build\][^[]*/, '')
    writeFileSync(join(dir, 'wrangler.toml'), toml)
    cpSync(join(ROOT, 'migrations'), join(dir, 'migrations'), { recursive: true })
    const env = {
      ...process.env,
      APP_SECRET: 'w'.repeat(40),
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    }
    const wrangler = (...args: string[]) => {
      const r = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), args, {
        cwd: dir,
        env,
        encoding: 'utf8',
      })
      if (r.status !== 0) throw new Error(`wrangler ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`)
      return r.stdout
    }
    const gateway = (...args: string[]) => {
      const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`consent-gateway ${args.join(' ')}:\n${r.stderr}`)
      return r
    }
    wrangler('d1', 'migrations', 'apply', 'DB', '--local')
    const created = gateway(
      '--d1-sql',
      'first.sql',
      'api-key',
      'create',
      '--name',
      'admin',
      '--scopes',
      'admin',
    )
    const id = /^cgk_([a-z2-7]{12})_/.exec(created.stdout.trim())![1]!
    expect(created.stderr).toContain('npx wrangler d1 execute <database> --remote --file first.sql')
    wrangler('d1', 'execute', 'DB', '--local', '--file', 'first.sql')
    wrangler('d1', 'export', 'DB', '--local', '--output', 'export.sql')
    gateway('api-key', 'revoke', '--id', id, '--d1-export', 'export.sql', '--d1-sql', 'revoke.sql')
    expect(readFileSync(join(dir, 'revoke.sql'), 'utf8')).toMatch(
      /^UPDATE "api_keys" SET "revoked_at" = \d+ WHERE "id" = '/m,
    )
    wrangler('d1', 'execute', 'DB', '--local', '--file', 'revoke.sql')
    const out = wrangler(
      'd1',
      'execute',
      'DB',
      '--local',
      '--json',
      '--command',
      'SELECT id, revoked_at FROM api_keys',
    )
    const rows = (JSON.parse(out) as { results: { id: string; revoked_at: number | null }[] }[])[0]!
      .results
    expect(rows).toEqual([{ id, revoked_at: expect.any(Number) }])
  })
})
