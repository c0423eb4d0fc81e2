/** @module Identifiers. */
import { toHex } from './encoding.ts'
import { randomBytes } from './random.ts'

/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then randomness. Rows keyed by it are
 * inserted at the right edge of their B-tree instead of at random places, which writes fewer pages
 * per commit on the ledger and outbox (append-mostly tables).
 */
let lastMs = 0
let counter = 0

/**
 * Monotonic within this process (RFC 9562 §6.2 method 1): ids made in the same millisecond carry an
 * increasing 12-bit counter, so id order is creation order (the outbox relies on it per contact).
 */
export function uuidv7(now = Date.now()): string {
  if (now <= lastMs) {
    counter++
    if (counter > 0xfff) {
      lastMs++
      counter = 0
    }
    now = lastMs
  } else {
    lastMs = now
    counter = 0
  }
  const b = randomBytes(16)
  for (let i = 0; i < 6; i++) b[i] = Math.floor(now / 2 ** (8 * (5 - i))) & 0xff
  b[6] = 0x70 | (counter >> 8)
  b[7] = counter & 0xff
  b[8] = 0x80 | (b[8]! & 0x3f)
  const h = toHex(b)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}
