/** @module The worker thread of src/runtime/node/webhook-reader.ts: reads each body it is sent. */
import { parentPort } from 'node:worker_threads'
import type { Bytes } from '../../lib/encoding.ts'
import { readMauticWebhook } from '../../mautic/webhook-read.ts'
import { nodeHmacSha256 as hmac, nodeSha256 as sha256 } from './crypto.ts'

export interface ReadRequest {
  id: number
  secret: string
  body: Bytes
  signature: string | undefined
}

parentPort?.on('message', (m: ReadRequest) => {
  readMauticWebhook({ hmac, sha256 }, m.secret, m.body, m.signature).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: String(err) }),
  )
})
