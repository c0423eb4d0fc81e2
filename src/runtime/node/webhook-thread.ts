/** @module The worker thread of src/runtime/node/webhook-reader.ts: reads each body it is sent. */
import { parentPort, workerData } from 'node:worker_threads'
import type { Bytes } from '../../lib/encoding.ts'
import { readMauticWebhook } from '../../mautic/webhook-read.ts'
import type { FieldSealer } from '../../lib/keys.ts'
import { nodeAead, nodeHmacSha256 as hmac, nodeSha256 as sha256 } from './crypto.ts'

export interface ReadRequest {
  id: number
  secrets: readonly string[]
  body: Bytes
  signature: string | undefined
}

/** The current field key only: the thread seals, it never opens. */
const keys: FieldSealer = {
  current: (workerData as { key: FieldSealer['current'] }).key,
  aead: nodeAead,
}

parentPort?.on('message', (m: ReadRequest) => {
  readMauticWebhook({ hmac, sha256, keys }, m.secrets, m.body, m.signature).then(
    (result) => parentPort!.postMessage({ id: m.id, result }),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: String(err) }),
  )
})
