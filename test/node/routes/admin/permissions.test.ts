// Every admin route and every admin API operation × every role: a role holding the route's permission
// gets past the guard, every other role gets 403 (src/domain/admin/permissions.ts is the one table).
import { beforeAll, describe, expect, it } from 'vitest'
import type { App } from '../../../../src/app.ts'
import type { Deps } from '../../../../src/deps.ts'
import {
  can,
  ROLES,
  SECOND_FACTOR_REQUIRED,
  type Permission,
  type Role,
} from '../../../../src/domain/admin/permissions.ts'
import { ADMIN_ROUTES } from '../../../../src/routes/admin/index.ts'
import { ADMIN_API_OPERATIONS } from '../../../../src/routes/api/admin/index.ts'
import { browser, makeAdmin, signIn, TEST_ITERATIONS } from '../../../helpers/admin.ts'
import { apiKey } from '../../../helpers/api.ts'
import { testApp } from '../../../helpers/deps.ts'

let app: App
let deps: Deps
const sessions = {} as Record<Role, ReturnType<typeof browser>>
const csrf = {} as Record<Role, string>

beforeAll(async () => {
  const t = await testApp({}, { pbkdf2Iterations: TEST_ITERATIONS })
  app = t.app
  deps = t.deps
  for (const role of ROLES) {
    const admin = await makeAdmin(deps, role)
    sessions[role] = await signIn(app, deps, admin)
    csrf[role] = await sessions[role].csrf()
  }
})

const concrete = (path: string) => path.replace(/:\w+|\{\w+\}/g, 'x0000000000')

interface Operation {
  method: string
  path: string
  permission: Permission
}

/**
 * Every admin API operation with the permission it declares, as the OpenAPI document lists them: the
 * console's (src/routes/api/admin/auth.ts) and the compliance ones (src/routes/api/admin/guard.ts).
 */
async function adminOperations(): Promise<Operation[]> {
  const doc = (await (await app.request('/api/v1/openapi.json')).json()) as {
    paths: Record<string, Record<string, { 'x-permission'?: Permission }>>
  }
  return Object.entries(doc.paths)
    .filter(([path]) => path.startsWith('/admin/'))
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({
        method: method.toUpperCase(),
        path: path.slice('/admin'.length),
        permission: op['x-permission']!,
      })),
    )
}

describe('every admin route × every role', () => {
  it('the table covers the console and the API', async () => {
    expect(ADMIN_ROUTES.length).toBeGreaterThan(25)
    expect(ADMIN_API_OPERATIONS.length).toBeGreaterThan(15)
    const documented = await adminOperations()
    expect(documented.length).toBeGreaterThan(45)
    expect(documented.filter((o) => !o.permission)).toEqual([])
    expect(ADMIN_ROUTES.filter((r) => r.permission).map((r) => r.path)).toEqual(
      expect.arrayContaining(['/admin/audit', '/admin/users', '/admin/contacts/:id/evidence']),
    )
  })

  it.each(ROLES)('%s: 403 exactly where the role lacks the permission (console)', async (role) => {
    const b = sessions[role]
    const wrong: string[] = []
    for (const r of ADMIN_ROUTES) {
      if (r.path === '/admin/sign-out') continue // would end the session the walk uses
      const path = concrete(r.path)
      const res = r.method === 'GET' ? await b.get(path) : await b.post(path, { _csrf: csrf[role] })
      // Going on without a second factor is for the roles that do not need one.
      const allowed =
        r.path === '/admin/enrol/skip'
          ? !SECOND_FACTOR_REQUIRED.has(role)
          : r.permission === null || can(role, r.permission)
      if ((res.status === 403) === allowed) wrong.push(`${r.method} ${r.path} → ${res.status}`)
    }
    expect(wrong).toEqual([])
  })

  it.each(ROLES)(
    '%s: 403 exactly where the role lacks the permission (admin API, session)',
    async (role) => {
      const b = sessions[role]
      const wrong: string[] = []
      for (const op of await adminOperations()) {
        const real = await app.request(`http://gateway.test/api/v1/admin${concrete(op.path)}`, {
          method: op.method,
          headers: {
            Cookie: b.cookie,
            Origin: 'http://gateway.test',
            'X-CSRF-Token': csrf[role],
            'Content-Type': 'application/json',
          },
          body: op.method === 'GET' ? undefined : '{}',
        })
        const body =
          real.status === 403 ? ((await real.json()) as { error: { code: string } }) : null
        const allowed = can(role, op.permission)
        // A step-up answer is not a refusal of the role: the sessions here checked a factor just now.
        if ((real.status === 403 && body?.error.code === 'forbidden') === allowed)
          wrong.push(`${op.method} ${op.path} → ${real.status}`)
      }
      expect(wrong).toEqual([])
    },
  )

  it('an admin-scope key reaches every operation; a key without it gets 403 on each', async () => {
    const admin = await apiKey(deps, ['admin'])
    const other = await apiKey(deps, ['subscribe', 'gate', 'send', 'consents:read'])
    for (const op of await adminOperations()) {
      const call = (key: string) =>
        app.request(`http://gateway.test/api/v1/admin${concrete(op.path)}`, {
          method: op.method,
          headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
          body: op.method === 'GET' ? undefined : '{}',
        })
      expect([op.path, (await call(other)).status]).toEqual([op.path, 403])
      expect([op.path, (await call(admin)).status]).not.toEqual([op.path, 403])
    }
    const none = await app.request('/api/v1/admin/api-keys')
    expect(none.status).toBe(401)
  })

  it('signed out: the console asks to sign in, the API answers 401', async () => {
    const b = browser(app)
    for (const r of ADMIN_ROUTES.filter((r) => r.permission !== null)) {
      const res =
        r.method === 'GET' ? await b.get(concrete(r.path)) : await b.post(concrete(r.path), {})
      if (r.method === 'GET') {
        expect(res.status).toBe(303)
        expect(res.headers.get('location')).toMatch(/^\/admin\/sign-in/)
      } else expect(res.status).toBe(401)
    }
  })
})

describe("the README's table of roles", () => {
  it('is the permission table of src/domain/admin/permissions.ts', async () => {
    const { readFileSync } = await import('node:fs')
    const { PERMISSIONS } = await import('../../../../src/domain/admin/permissions.ts')
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8')
    const rows = readme.split('\n').filter((l) => /^\| `[a-z]+\.[a-z]+` /.test(l))
    const table = Object.fromEntries(
      rows.map((l) => {
        const cells = l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim())
        return [cells[0]!.replace(/`/g, ''), ROLES.filter((_, i) => cells[i + 1] === '✓')]
      }),
    )
    expect(table).toEqual(
      Object.fromEntries(Object.entries(PERMISSIONS).map(([p, r]) => [p, [...r]])),
    )
  })
})
