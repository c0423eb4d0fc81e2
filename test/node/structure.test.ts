// The house's shape, checked: the lint refuses imports against the layers (docs/architecture.md
// "Layers"), no folder of src/ or bench/ imports another in a loop, and every path the architecture
// document names exists.
import { ESLint } from 'eslint'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('lint enforces the layers', () => {
  const eslint = new ESLint({ cwd: ROOT })
  const lint = async (file: string, code: string) => {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) })
    return result!.messages.map((m) => `${m.ruleId}: ${m.message}`)
  }

  it.each([
    [
      'a lower domain part importing a higher one',
      'src/domain/platform/x.ts',
      "import { chainHead } from '../consent/ledger.ts'\nexport const a = chainHead\n",
    ],
    [
      'the staff domain importing the operations above it',
      'src/domain/admin/x.ts',
      "import { runMonitor } from '../operations/monitor.ts'\nexport const a = runMonitor\n",
    ],
    [
      'the operations importing the Mautic connector',
      'src/domain/operations/x.ts',
      "import { mirror } from '../../mautic/mirror.ts'\nexport const a = mirror\n",
    ],
    [
      'consent importing sending',
      'src/domain/consent/x.ts',
      "import { gateBatch } from '../sending/gate.ts'\nexport const a = gateBatch\n",
    ],
    [
      'the domain importing the Mautic connector',
      'src/domain/rights/x.ts',
      "import { mirror } from '../../mautic/mirror.ts'\nexport const a = mirror\n",
    ],
    [
      'the connector importing the jobs',
      'src/mautic/x.ts',
      "import { outboxHandlers } from '../jobs/outbox-handlers.ts'\nexport const a = outboxHandlers\n",
    ],
    [
      'a route reading a repository',
      'src/routes/public/x.ts',
      "import { findContactById } from '../../db/repositories/contacts.ts'\nexport const a = findContactById\n",
    ],
    [
      'lib importing the domain',
      'src/lib/x.ts',
      "import { findContact } from '../domain/platform/contacts.ts'\nexport const a = findContact\n",
    ],
    [
      'a repository importing deps',
      'src/db/repositories/x.ts',
      "import { systemClock } from '../../deps.ts'\nexport const a = systemClock\n",
    ],
    [
      'a query built outside src/db/',
      'src/domain/rights/x.ts',
      "import type { DB } from '../../db/database.ts'\nexport const f = (db: DB) => db.selectFrom('contacts').selectAll().execute()\n",
    ],
    [
      'raw SQL outside src/db/',
      'src/mautic/x.ts',
      "import { sql } from 'kysely'\nexport const q = sql`SELECT 1`\n",
    ],
    [
      'a Node-only package in shared code',
      'src/domain/platform/x.ts',
      "import { readFileSync } from 'node:fs'\nexport const a = readFileSync\n",
    ],
  ])('refuses %s', async (_what, file, code) => {
    expect(await lint(file, code)).not.toEqual([])
  })

  it('accepts what the layers allow: a type-only import, a route calling the domain', async () => {
    expect(
      await lint(
        'src/routes/public/x.ts',
        "import type { ContactRow } from '../../db/repositories/contacts.ts'\nimport { findContact } from '../../domain/platform/contacts.ts'\nexport type A = ContactRow\nexport const b = findContact\n",
      ),
    ).toEqual([])
  })
})

/** Every .ts file under `dir`, generated code aside. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(path)
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

/**
 * The folder a file belongs to, as a node of the graph: `src/domain/<part>` for the domain, the first
 * folder under `base` otherwise, and each file at the top of `base` as a node of its own.
 */
function nodeOf(base: string, file: string): string {
  const parts = relative(base, file).split('/')
  if (parts.length === 1) return parts[0]!
  return parts[0] === 'domain' && parts.length > 2 ? `domain/${parts[1]}` : parts[0]!
}

/** Folder-level edges of value imports (a type-only import leaves nothing at run time). */
function folderEdges(base: string): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>()
  for (const file of sources(base)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/^import\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
      if (m[1]) continue
      const target = resolve(dirname(file), m[2]!)
      if (!target.startsWith(base + '/')) continue
      const [from, to] = [nodeOf(base, file), nodeOf(base, target)]
      if (from === to) continue
      if (!edges.has(from)) edges.set(from, new Set())
      edges.get(from)!.add(to)
    }
  }
  return edges
}

/** One cycle of the graph, or undefined (depth-first search). */
function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined
    if (state.get(n) === 'open') return [...path.slice(path.indexOf(n)), n]
    state.set(n, 'open')
    path.push(n)
    for (const m of edges.get(n) ?? []) {
      const cycle = visit(m)
      if (cycle) return cycle
    }
    path.pop()
    state.set(n, 'done')
    return undefined
  }
  for (const n of edges.keys()) {
    const cycle = visit(n)
    if (cycle) return cycle
  }
  return undefined
}

describe('no import cycle between folders', () => {
  it.each(['src', 'bench'])('%s/', (dir) => {
    expect(findCycle(folderEdges(join(ROOT, dir)))).toBeUndefined()
  })

  it('the check finds a cycle when there is one', () => {
    const edges = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ])
    expect(findCycle(edges)).toEqual(['a', 'b', 'c', 'a'])
  })
})

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8')
    const paths = [
      ...doc.matchAll(/`((?:src|test|bench|views|migrations|docs|scripts)\/[^`\s]+)`/g),
    ]
      .map((m) => m[1]!.replace(/\/$/, ''))
      .filter((p) => !/[<{*]/.test(p))
    expect(paths.length).toBeGreaterThan(20)
    expect(paths.filter((p) => !existsSync(join(ROOT, p)))).toEqual([])
  })
})
