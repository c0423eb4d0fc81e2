/** @module GET /.well-known/jwks.json: the public keys that verify receipts and ledger checkpoints. */
import { Hono } from 'hono'
import type { Deps } from '../deps.ts'
import { publishedJwks } from '../domain/consent/signing-keys.ts'

export function wellKnownRoutes(deps: Pick<Deps, 'db' | 'keys' | 'clock'>) {
  return new Hono().get('/jwks.json', async (c) => {
    const jwks = await publishedJwks(deps)
    return c.body(JSON.stringify(jwks), 200, {
      'Content-Type': 'application/jwk-set+json',
      // Verifiers may cache it: a key is published before it signs, and stays published after.
      'Cache-Control': 'public, max-age=300',
      // Public keys only: any site may fetch them to check a receipt in the browser.
      'Access-Control-Allow-Origin': '*',
    })
  })
}
