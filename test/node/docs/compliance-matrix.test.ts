// docs/compliance-matrix.md names, for every requirement, the tests that prove it (`path`: name).
// This fails when a named test no longer exists in its file, when a row names no test, or when a
// requirement the matrix must cover is missing.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../../..')

/** The requirements the compliance issue lists: each must have a row. */
const REQUIRED = [
  'Art. 5(1)(e)',
  'Art. 6',
  'Art. 7(1)',
  'Art. 7(3)',
  'Art. 12(3)',
  'Art. 15',
  'Art. 16',
  'Art. 17',
  'Art. 19',
  'Art. 20',
  'Art. 21',
  'Art. 25',
  'Art. 28',
  'Art. 30',
  'Art. 32',
  'Art. 33',
  'ePrivacy',
  'B2B exception',
  '3 years',
  'RFC 2369',
  'RFC 8058',
  'Gmail and Yahoo',
]

interface Row {
  requirement: string
  tests: { path: string; name: string }[]
}

/** The table rows of the matrix: requirement, feature, tests (`path`: name, one per <br>). */
export function parseMatrix(markdown: string): Row[] {
  const rows: Row[] = []
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim())
    if (cells.length !== 3 || cells[0] === 'Requirement') continue
    const tests = cells[2]!.split('<br>').map((entry) => {
      const m = /^`([^`]+)`: (.+)$/.exec(entry.trim())
      if (!m) throw new Error(`"${cells[0]}": not a test reference: ${entry}`)
      return { path: m[1]!, name: m[2]! }
    })
    rows.push({ requirement: cells[0]!, tests })
  }
  return rows
}

/** What is wrong with the references: a missing file, or a name not written as a string in it. */
export function missingTests(rows: Row[], read: (path: string) => string | null): string[] {
  const problems: string[] = []
  for (const row of rows)
    for (const { path, name } of row.tests) {
      const source = read(path)
      if (source === null) problems.push(`${row.requirement}: ${path} does not exist`)
      else if (![`'${name}'`, `"${name}"`, `\`${name}\``].some((q) => source.includes(q)))
        problems.push(`${row.requirement}: no test "${name}" in ${path}`)
    }
  return problems
}

const readRepoFile = (path: string) => {
  const full = join(ROOT, path)
  return existsSync(full) ? readFileSync(full, 'utf8') : null
}

describe('docs/compliance-matrix.md', () => {
  const rows = parseMatrix(readFileSync(join(ROOT, 'docs/compliance-matrix.md'), 'utf8'))

  it('names, for every requirement, tests that exist in their files', () => {
    expect(rows.length).toBeGreaterThanOrEqual(REQUIRED.length)
    for (const row of rows) expect(row.tests.length, row.requirement).toBeGreaterThan(0)
    expect(missingTests(rows, readRepoFile)).toEqual([])
  })

  it('covers every requirement of the compliance issue', () => {
    for (const r of REQUIRED)
      expect(
        rows.some((row) => row.requirement.includes(r)),
        r,
      ).toBe(true)
  })

  it('fails on a test that was renamed or removed, or a file that moved', () => {
    const broken = parseMatrix(
      [
        '| Requirement | Feature | Tests |',
        '| --- | --- | --- |',
        '| Art. 17 erasure | x | `test/node/domain/rights/erasure.test.ts`: erases everything, a name no test has<br>`test/node/nowhere.test.ts`: anything |',
      ].join('\n'),
    )
    expect(missingTests(broken, readRepoFile)).toEqual([
      'Art. 17 erasure: no test "erases everything, a name no test has" in test/node/domain/rights/erasure.test.ts',
      'Art. 17 erasure: test/node/nowhere.test.ts does not exist',
    ])
  })
})
