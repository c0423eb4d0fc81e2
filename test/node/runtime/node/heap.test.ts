// startServer sets V8's garbage collector as src/runtime/node/heap.ts says why: allocation-site
// pretenuring off, and the old generation's growth between full collections fixed. In a fresh
// process, with V8's own traces of its pretenuring decisions and of the growing factor it picks
// after each full collection, the same workload with and without a real start of the server first:
// objects kept alive across young-generation collections by the hundred thousand, which makes V8
// decide to allocate their place's objects in the old generation (2 to 5 such decisions in each of
// 8 runs by hand) and promotes enough for several full collections (V8 picked the factor 4.0 after
// each, on this machine, with no flag). Only the lines after "ready" count: loading the gateway's
// modules makes V8 decide some before startServer runs. V8 prints its traces through C's stdio,
// which buffers a pipe: stdbuf makes it write each line as it comes, in order with the script's own.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  OLD_GENERATION_GROWTH_PERCENT,
  SERVER_V8_FLAGS,
} from '../../../../src/runtime/node/heap.ts'
import { TEST_SECRET } from '../../../helpers/deps.ts'

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url))

const script = `
  if (process.env.START_SERVER === '1') {
    const { startServer } = await import('./src/runtime/node/server.ts')
    const { jsonLogger } = await import('./src/lib/log.ts')
    const server = await startServer(
      { PORT: '0', APP_SECRET: process.env.SECRET, DATABASE_PATH: process.env.DB },
      jsonLogger(() => {}),
    )
    await server.close()
  }
  console.log('ready')
  const kept = []
  for (let i = 0; i < 2e7; i++) {
    kept.push({ i })
    if (kept.length > 5e5) kept.length = 0
  }
  console.log('done', kept.length)
`

/**
 * After "ready": how many lines of V8's trace say an allocation site's objects now go to the old
 * generation, and the growing factor behind each old-generation limit it set after a full collection.
 */
async function gcTrace(startServer: boolean): Promise<{ tenured: number; factors: string[] }> {
  const { stdout } = await promisify(execFile)(
    'stdbuf',
    [
      '-oL',
      process.execPath,
      '--trace-pretenuring-statistics',
      '--trace-gc-verbose',
      '--import',
      'tsx',
      '--input-type=module',
      '--eval',
      script,
    ],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        ...process.env,
        START_SERVER: startServer ? '1' : '0',
        SECRET: TEST_SECRET,
        DB: join(mkdtempSync(join(tmpdir(), 'cg-heap-')), 'gw.db'),
      },
    },
  )
  expect(stdout).toMatch(/^done /m)
  const ready = stdout.search(/^ready$/m)
  expect(ready).toBeGreaterThanOrEqual(0)
  const after = stdout.slice(ready).split('\n')
  return {
    tenured: after.filter((l) => /pretenuring: .*=> tenure$/.test(l)).length,
    factors: after.flatMap((l) => /\[HeapController\] Limit: .*\(([\d.]+)\)$/.exec(l)?.[1] ?? []),
  }
}

describe("the server's garbage collector", () => {
  it("is V8's own until startServer runs: then no pretenuring, and a fixed growth between full collections", async () => {
    expect(SERVER_V8_FLAGS).toContain('--no-allocation-site-pretenuring')
    expect(SERVER_V8_FLAGS).toContain(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`)
    const fixed = (1 + OLD_GENERATION_GROWTH_PERCENT / 100).toFixed(1)
    const own = await gcTrace(false)
    expect(own.tenured).toBeGreaterThan(0)
    expect(own.factors.length).toBeGreaterThan(0)
    expect(own.factors.some((f) => f !== fixed)).toBe(true)
    const server = await gcTrace(true)
    expect(server.tenured).toBe(0)
    expect(server.factors.length).toBeGreaterThan(0)
    expect(new Set(server.factors)).toEqual(new Set([fixed]))
  }, 60_000)

  // startServer runs after the modules are loaded, which makes V8 decide a few places already:
  // `npm start` (and the bench, bench/processes/children.ts) gives the flags from the first instruction.
  it('gets the same flags on the command line of `npm start`', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string }
    }
    for (const flag of SERVER_V8_FLAGS) expect(pkg.scripts.start.split(/\s+/)).toContain(flag)
  })
})
