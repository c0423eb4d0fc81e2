#!/usr/bin/env node
// `npm test`: every vitest project, then the plain closing line `N passed, N failed` read from vitest's
// JSON report (CI reads that line, not vitest's own summary).
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

const report = '.vitest.json'
rmSync(report, { force: true })
const env = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' }
const run = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile=${report}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env },
)

let result
try {
  result = JSON.parse(readFileSync(report, 'utf8'))
} catch {
  console.error(`vitest wrote no report (${report}); exit status ${run.status ?? run.signal}`)
  process.exit(run.status || 1)
}
// A file that fails to load has no failed test in the count but fails the run: count it as a failure.
const brokenFiles = result.testResults.filter(
  (f) => f.status === 'failed' && f.assertionResults.length === 0,
).length
const failed = result.numFailedTests + brokenFiles
const skipped = result.numPendingTests + result.numTodoTests
console.log(
  `${result.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`,
)
process.exit(failed > 0 || run.status !== 0 ? run.status || 1 : 0)
