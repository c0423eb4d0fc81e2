/** @module node:crypto behind the ports of src/lib/keys.ts: HMAC, SHA-256 and AES-256-GCM, synchronous. */
import nodeCrypto, { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto'
import type { Aead, HmacSha256, Sha256 } from '../../lib/keys.ts'

/** node:crypto's HMAC is several times faster than WebCrypto's for short inputs, and synchronous. */
export const nodeHmacSha256: HmacSha256 = (key, data) =>
  createHmac('sha256', key).update(data).digest()
/**
 * One-shot `crypto.hash` is several times cheaper than a Hash object for short input; it came in Node
 * 20.12, hence the fallback (a named import of it would not even load on an older 20).
 */
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer })
  .hash
export const nodeSha256: Sha256 = oneShot
  ? (data) => oneShot('sha256', data, 'buffer')
  : (data) => createHash('sha256').update(data).digest()

/** node:crypto AES-256-GCM, in WebCrypto's layout (ciphertext || 16-byte tag). */
export const nodeAead: Aead = {
  seal(key, iv, plaintext, aad) {
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad)
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  },
  open(key, iv, sealed, aad) {
    const decipher = createDecipheriv('aes-256-gcm', key, iv)
      .setAAD(aad)
      .setAuthTag(sealed.subarray(sealed.length - 16))
    return Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - 16)),
      decipher.final(),
    ])
  },
}
