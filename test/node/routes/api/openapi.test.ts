import { describe, expect, it } from 'vitest'
import { testApp } from '../../../helpers/deps.ts'

describe('GET /api/v1/openapi.json', () => {
  it('describes every /api/v1 route the app serves, with its scope', async () => {
    const { app } = await testApp()
    const res = await app.request('/api/v1/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as {
      openapi: string
      paths: Record<string, Record<string, { 'x-scope': string }>>
    }
    expect(doc.openapi).toBe('3.1.0')
    const served = app.routes
      .filter(
        (r) =>
          r.path.startsWith('/api/v1/') && r.method !== 'ALL' && !r.path.endsWith('openapi.json'),
      )
      .map(
        (r) =>
          `${r.method.toLowerCase()} ${r.path
            .slice('/api/v1'.length)
            .replace(/:(\w+)/g, '{$1}')
            .replace(/\/$/, '')}`,
      )
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    )
    expect(served.length).toBeGreaterThanOrEqual(6)
    expect(new Set(served)).toEqual(new Set(documented))
    expect(doc.paths['/gate']!.post!['x-scope']).toBe('gate')
  })
})
