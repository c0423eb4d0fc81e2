/**
 * @module SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) in plain JS, synchronous on both runtimes,
 * for the e-mail blind index in bulk. With the key's two pads hashed once, the HMAC of an address is
 * two block compressions and no call into native code: node:crypto's createHmac costs a native call
 * per address, WebCrypto's a promise, and the batch gate hashes a thousand addresses per request. The
 * library for this, @noble/hashes 2.0, took several times as long per address as this code (as
 * measured: bench/results.md, "Measurements behind design choices").
 * test/node/blind-index.test.ts checks it against RFC 4231's vectors and node:crypto.
 */

// prettier-ignore
const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
])
// prettier-ignore
const IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
])

// Scratch space: everything here is synchronous, so one set serves every call.
const W = new Int32Array(64)
const TAIL = new Uint8Array(128)
const H = new Int32Array(8)
const INNER = new Uint8Array(32)

/** Absorbs the 64-byte block at `data[off]` into the state `h`. */
function compress(h: Int32Array, data: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++, off += 4)
    W[i] = (data[off]! << 24) | (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15]!
    const y = W[i - 2]!
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0
  }
  // prettier-ignore
  let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
    const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K[i]! + W[i]!) | 0
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
    k = g
    g = f
    f = e
    e = (d + t1) | 0
    d = c
    c = b
    b = a
    a = (t1 + t2) | 0
  }
  h[0] = (h[0]! + a) | 0
  h[1] = (h[1]! + b) | 0
  h[2] = (h[2]! + c) | 0
  h[3] = (h[3]! + d) | 0
  h[4] = (h[4]! + e) | 0
  h[5] = (h[5]! + f) | 0
  h[6] = (h[6]! + g) | 0
  h[7] = (h[7]! + k) | 0
}

/**
 * Hashes `data` into `H`, starting from `state` with `prefixLength` bytes (whole blocks) already
 * absorbed: the remaining blocks, then the 0x80 pad and the message length in bits, big-endian.
 */
function absorb(state: Int32Array, prefixLength: number, data: Uint8Array): void {
  H.set(state)
  let off = 0
  for (; off + 64 <= data.length; off += 64) compress(H, data, off)
  const rest = data.length - off
  const end = rest < 56 ? 64 : 128
  for (let i = 0; i < rest; i++) TAIL[i] = data[off + i]!
  TAIL[rest] = 0x80
  TAIL.fill(0, rest + 1, end - 4)
  const bits = (prefixLength + data.length) * 8 // below 2^32: no input here comes near 512 MB
  TAIL[end - 4] = bits >>> 24
  TAIL[end - 3] = bits >>> 16
  TAIL[end - 2] = bits >>> 8
  TAIL[end - 1] = bits
  compress(H, TAIL, 0)
  if (end === 128) compress(H, TAIL, 64)
}

/** `H` as 32 big-endian bytes into `out`. */
function digestInto(out: Uint8Array): Uint8Array {
  for (let i = 0, j = 0; i < 8; i++, j += 4) {
    const v = H[i]!
    out[j] = v >>> 24
    out[j + 1] = v >>> 16
    out[j + 2] = v >>> 8
    out[j + 3] = v
  }
  return out
}

export function sha256(data: Uint8Array): Uint8Array {
  absorb(IV, 0, data)
  return digestInto(new Uint8Array(32))
}

/** Each key's HMAC, for as long as the key's bytes live (the keys of a key set). */
const keyed = new WeakMap<Uint8Array, (data: Uint8Array) => Uint8Array>()

/**
 * HMAC-SHA256 under `key`, with the key's inner and outer pads hashed once: on the first call for
 * that key (the same bytes object), then remembered.
 */
export function keyedHmacSha256(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  let mac = keyed.get(key)
  if (!mac) keyed.set(key, (mac = hmacUnder(key)))
  return mac
}

function hmacUnder(key: Uint8Array): (data: Uint8Array) => Uint8Array {
  const block = new Uint8Array(64)
  block.set(key.length > 64 ? sha256(key) : key)
  const inner = IV.slice()
  const outer = IV.slice()
  compress(
    inner,
    block.map((x) => x ^ 0x36),
    0,
  )
  compress(
    outer,
    block.map((x) => x ^ 0x5c),
    0,
  )
  return (data) => {
    absorb(inner, 64, data)
    absorb(outer, 64, digestInto(INNER))
    return digestInto(new Uint8Array(32))
  }
}
