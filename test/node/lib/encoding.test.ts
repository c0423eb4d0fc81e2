import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromBase64Url, toBase64Url, toHex } from '../../../src/lib/encoding.ts'

// Node takes Buffer's native base64url; the answers must be those of the btoa/atob path Workers
// without nodejs_compat would take, views into larger buffers included.
const reference = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

describe('base64url', () => {
  it('encodes as the btoa path does, for whole arrays and views', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(8), (bytes, cut) => {
        expect(toBase64Url(bytes)).toBe(reference(bytes))
        const view = bytes.subarray(Math.min(cut, bytes.length))
        expect(toBase64Url(view)).toBe(reference(view))
      }),
    )
  })

  it('decodes back to the same bytes, on an ArrayBuffer of its own', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const decoded = fromBase64Url(toBase64Url(bytes))
        expect([...decoded]).toEqual([...bytes])
        expect(decoded.byteOffset).toBe(0)
        expect(decoded.buffer.byteLength).toBe(bytes.length)
      }),
    )
  })

  it('refuses what atob refuses instead of skipping it', () => {
    expect(() => fromBase64Url('ab$d')).toThrow()
    expect(() => fromBase64Url('a')).toThrow()
  })
})

describe('toHex', () => {
  it('is lower-case hex, two digits a byte', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(toHex(bytes)).toBe(Buffer.from(bytes).toString('hex'))
      }),
    )
  })
})
