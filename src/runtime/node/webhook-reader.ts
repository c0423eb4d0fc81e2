/**
 * @module Mautic webhook bodies read on a worker thread: the signature check, the JSON parse and
 * the receipt keys were a large share of the intake's time on the request thread, and queue mode
 * sends up to 5 MB, whose parse there would stall every other request (as measured:
 * bench/results.md, "Measurements behind design choices"). The thread starts with the server
 * (loading its TypeScript takes a while), and again with the next webhook after a crash. If it
 * dies, the bodies it held are read in the request instead (Mautic never sends an event twice, so
 * none may be lost), and so is every body after a thread that could not start at all. A lone small
 * body, as Mautic posts them one event at a time, is read in the request: at 100 webhooks/s the hop
 * to an idle thread and back cost more latency than the read (bench/results.md, "Lone webhooks").
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { Deps } from '../../deps.ts'
import type { Bytes } from '../../lib/encoding.ts'
import type { FieldSealer } from '../../lib/keys.ts'
import {
  readMauticWebhook,
  type WebhookRead,
  type WebhookReader,
} from '../../mautic/webhook-read.ts'
import { nodeHmacSha256 as hmac, nodeSha256 as sha256 } from './crypto.ts'
import type { ReadRequest } from './webhook-thread.ts'

const THREAD = fileURLToPath(new URL('./webhook-thread.ts', import.meta.url))

/**
 * The thread's first lines, plain CommonJS: tsx's require hook, then the TypeScript entry. Node 20 does
 * not hand a parent's ESM loader hooks (`--import tsx`) on to workers; a require hook is per thread.
 */
const BOOT = `
const { workerData } = require('node:worker_threads')
require(workerData.tsx).register()
require(workerData.entry)
`
const TSX = createRequire(import.meta.url).resolve('tsx/cjs/api')

/** A webhook with none before it for this long, and none on the thread, comes alone. */
const LONE_AFTER_MS = 2
/** A lone webhook this small is read on the request thread (a 5 MB batch never is). */
const LONE_MAX_BYTES = 64 * 1024

interface Waiting {
  args: [readonly string[], Bytes, string | undefined]
  resolve(r: WebhookRead): void
  reject(e: Error): void
}

export interface WebhookReaderThread {
  read: WebhookReader
  /** The running thread's id, if one runs. */
  threadId(): number | undefined
  close(): Promise<void>
}

export function webhookReaderThread(
  /** The key the compact events are sealed with for the outbox (deps.keys). */
  keys: FieldSealer,
  onError: (message: string) => void,
  /** The thread's entry module (a path): tests start one that fails. */
  entry = THREAD,
): WebhookReaderThread {
  const readInline: WebhookReader = (secrets, body, signature) =>
    readMauticWebhook({ hmac, sha256, keys }, secrets, body, signature)
  // Only the field key and its id cross into the thread: it seals, it never opens or signs.
  const sealingKey = { kid: keys.current.kid, encryption: keys.current.encryption }
  let worker: Worker | undefined
  let inline = false
  let closed = false
  const waiting = new Map<number, Waiting>()
  let nextId = 0

  function start(): Worker {
    const w = new Worker(BOOT, { eval: true, workerData: { tsx: TSX, entry, key: sealingKey } })
    let answered = false
    w.unref() // the server's sockets keep the process up, not this thread
    w.on('message', (m: { id: number; result?: WebhookRead; error?: string }) => {
      answered = true
      const waiter = waiting.get(m.id)
      waiting.delete(m.id)
      if (m.error !== undefined) waiter?.reject(new Error(`webhook reader: ${m.error}`))
      else waiter?.resolve(m.result!)
    })
    w.on('error', (err) => onError(`webhook reader thread: ${String(err)}`))
    w.on('exit', (code) => {
      if (worker !== w) return // closed on purpose
      worker = undefined
      if (!answered) {
        inline = true
        onError(`webhook reader thread could not start (exit code ${code}): reading in the request`)
      }
      for (const [id, waiter] of waiting) {
        waiting.delete(id)
        readInline(...waiter.args).then(waiter.resolve, waiter.reject)
      }
    })
    return w
  }

  worker = start()
  let lastRead = -Infinity
  return {
    read(secrets, body, signature) {
      if (inline || closed) return readInline(secrets, body, signature)
      // A lone small webhook, as Mautic sends them one at a time from its own requests, is read
      // here: handing it to an idle thread and back costs two thread wake-ups, more than its read.
      const now = performance.now()
      const lone = waiting.size === 0 && now - lastRead > LONE_AFTER_MS
      lastRead = now
      if (lone && body.length <= LONE_MAX_BYTES) return readInline(secrets, body, signature)
      const w = (worker ??= start())
      const id = nextId++
      return new Promise<WebhookRead>((resolve, reject) => {
        waiting.set(id, { args: [secrets, body, signature], resolve, reject })
        // Copied, not moved: the body stays here in case the thread dies before answering.
        const request: ReadRequest = { id, secrets, body, signature }
        w.postMessage(request)
      })
    },
    threadId: () => worker?.threadId,
    async close() {
      closed = true
      const w = worker
      worker = undefined
      await w?.terminate()
      for (const [id, waiter] of waiting) {
        waiting.delete(id)
        readInline(...waiter.args).then(waiter.resolve, waiter.reject)
      }
    },
  }
}

/**
 * The reader `npm start` (and the bench serving as it does) puts in `deps` when Mautic webhooks are
 * configured (MAUTIC_WEBHOOK_SECRET, or MAUTIC_URL: `mautic connect` stores secrets in the database);
 * without either there is nothing to read and no thread.
 */
export function startWebhookReader(
  deps: Pick<Deps, 'config' | 'keys' | 'readWebhook'>,
  onError: (message: string) => void,
): WebhookReaderThread | undefined {
  if (!deps.config.mauticWebhookSecret && !deps.config.mautic) return undefined
  const reader = webhookReaderThread(deps.keys, onError)
  deps.readWebhook = reader.read
  return reader
}
