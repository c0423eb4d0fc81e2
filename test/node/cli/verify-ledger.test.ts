// `consent-gateway verify-ledger` on a real database file, before and after tampering.
import Database from 'better-sqlite3'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config.ts'
import { subscribe } from '../../../src/domain/consent/subscriptions.ts'
import { nodeDeps } from '../../../src/runtime/node/deps.ts'
import { openDatabase } from '../../../src/runtime/node/server.ts'
import { API_CONSENT, TEST_SECRET } from '../../helpers/deps.ts'
import { spawnBin } from '../../helpers/spawn.ts'

describe('consent-gateway verify-ledger', () => {
  it(
    'exits 0 on an intact ledger and 1 naming the broken link after tampering',
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cg-verify-'))
      const env = { DATABASE_PATH: join(dir, 'gw.db'), APP_SECRET: TEST_SECRET }
      const sqlite = openDatabase(env.DATABASE_PATH)
      const deps = await nodeDeps({
        config: { ...parseConfig(env), appSecret: TEST_SECRET },
        sqlite,
      })
      const input = API_CONSENT
      await subscribe(deps, {
        ...input,
        email: 'a@exemple.fr',
        purposes: ['cookies', 'geolocation'],
      })
      sqlite.close()

      const ok = spawnBin(['verify-ledger'], { cwd: dir, env })
      expect(await ok.exited).toBe(0)
      expect(ok.output()).toContain('Ledger verified: 1 chains, 2 events')

      const raw = new Database(env.DATABASE_PATH)
      raw.exec(
        "DROP TRIGGER consent_events_no_update; UPDATE consent_events SET source = 'forged' WHERE seq = 2",
      )
      raw.close()
      const broken = spawnBin(['verify-ledger'], { cwd: dir, env })
      expect(await broken.exited).toBe(1)
      expect(broken.output()).toMatch(
        /LEDGER BROKEN.*\n.*event 2: its content does not match its hash/,
      )
    },
  )
})
