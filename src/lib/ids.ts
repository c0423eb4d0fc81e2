/** @module Identifiers. */
import { toHex } from './encoding.ts'

/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then randomness. Rows keyed by it are
 * inserted at the right edge of their B-tree instead of at random places, which writes fewer pages
 * per commit on the ledger and outbox (append-mostly tables).
 */
export function uuidv7(now = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16))
  for (let i = 0; i < 6; i++) b[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff
  b[6] = 0x70 | (b[6]! & 0x0f)
  b[8] = 0x80 | (b[8]! & 0x3f)
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
