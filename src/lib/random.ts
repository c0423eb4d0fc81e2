/** @module Random bytes from a pooled buffer: one getRandomValues call per 4 KiB instead of per id or IV. */
import type { Bytes } from './encoding.ts'

const POOL_SIZE = 4096
let pool = new Uint8Array(0)
let offset = 0

/**
 * Fresh cryptographically secure bytes (never handed out twice). Node fetches entropy with a system call
 * on every getRandomValues; for 12- and 16-byte values that call costs more than the work they serve.
 */
export function randomBytes(n: number): Bytes {
  if (n > POOL_SIZE) return crypto.getRandomValues(new Uint8Array(n))
  if (offset + n > pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL_SIZE))
    offset = 0
  }
  const out = pool.slice(offset, offset + n)
  offset += n
  return out
}
