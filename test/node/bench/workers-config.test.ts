// The bench's Worker (bench/workers/) must run what is deployed: its wrangler configuration reads the
// repository's migrations and the deployed configuration's compatibility date and flags, and its
// entry serves the real Worker (src/worker.ts), or the Workers rows measure something else.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { WRANGLER_CONFIG } from '../../../bench/workers/config.ts'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

/** `key = "value"` or `key = [...]` of a wrangler.toml, as written. */
const setting = (toml: string, key: string) =>
  new RegExp(`^${key}\\s*=\\s*(.+)$`, 'm').exec(toml)?.[1]?.trim()

describe("the bench's Worker", () => {
  const bench = readFileSync(WRANGLER_CONFIG, 'utf8')
  const deployed = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')

  it("reads the repository's migrations into its D1 binding DB", () => {
    expect(setting(bench, 'binding')).toBe('"DB"')
    const dir = JSON.parse(setting(bench, 'migrations_dir')!) as string
    expect(resolve(dirname(WRANGLER_CONFIG), dir)).toBe(join(ROOT, 'migrations'))
  })

  it("runs under the deployed Worker's compatibility date and flags", () => {
    for (const key of ['compatibility_date', 'compatibility_flags'])
      expect(setting(bench, key)).toBe(setting(deployed, key))
  })

  it('serves the real Worker', () => {
    const main = JSON.parse(setting(bench, 'main')!) as string
    const entry = resolve(dirname(WRANGLER_CONFIG), main)
    expect(existsSync(entry)).toBe(true)
    expect(readFileSync(entry, 'utf8')).toContain("from '../../src/worker.ts'")
  })
})
