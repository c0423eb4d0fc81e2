/**
 * @module The SMTP load generator: `connections` senders, each on its own connection of one nodemailer
 * pool (kept open for the whole run, as a sending tool's is), each sending its next message as soon as
 * the last one is answered (closed loop). A message counts once the server answered 250, which the
 * servers measured here do only after their upstream took it: the rate is messages/s delivered.
 */
import nodemailer from 'nodemailer'
import { Histogram } from './histogram.ts'
import type { BenchMail } from './marketing-mail.ts'

export interface MailLoadOptions {
  host: string
  port: number
  auth: { user: string; pass: string }
  connections: number
  warmupS: number
  durationS: number
  /** Message `n` of the run (numbered across warm-up and measurement). */
  next: (n: number) => BenchMail
  /** A 250 whose text lacks this is counted as a problem (the server did something else). */
  expectReply?: string
}

export interface MailLoadResult {
  /** Messages answered 250 (with `expectReply`) per second. */
  rate: number
  hist: Histogram
  accepted: number
  refused: number
  unexpected: number
  /** The first refusal's or unexpected reply's text, to say what went wrong. */
  firstProblem?: string
}

export async function mailLoad(o: MailLoadOptions): Promise<MailLoadResult> {
  const transport = nodemailer.createTransport({
    pool: true,
    host: o.host,
    port: o.port,
    secure: false,
    ignoreTLS: true,
    auth: o.auth,
    maxConnections: o.connections,
    maxMessages: Infinity,
    // A stuck server fails the run in seconds instead of nodemailer's ten minutes.
    socketTimeout: 30_000,
  })
  let n = 0
  async function phase(seconds: number, hist?: Histogram) {
    const counts = { accepted: 0, refused: 0, unexpected: 0 }
    let firstProblem: string | undefined
    const start = performance.now()
    const end = start + seconds * 1000
    const sender = async () => {
      while (performance.now() < end) {
        const mail = o.next(n++)
        const t0 = performance.now()
        try {
          const info = await transport.sendMail({ envelope: mail.envelope, raw: mail.raw })
          if (o.expectReply && !String(info.response).includes(o.expectReply)) {
            counts.unexpected++
            firstProblem ??= `reply "${info.response}"`
            continue
          }
          hist?.record((performance.now() - t0) * 1e6)
          counts.accepted++
        } catch (err) {
          counts.refused++
          firstProblem ??= (err as Error).message
        }
      }
    }
    await Promise.all(Array.from({ length: o.connections }, sender))
    // Senders finish the message they started before the deadline: divide by the time actually run.
    const ms = performance.now() - start
    return { ...counts, firstProblem, rate: counts.accepted / (ms / 1000) }
  }
  try {
    // Warm-up: JIT, the pools' connections on both hops, SQLite's page cache.
    await phase(o.warmupS)
    const hist = new Histogram()
    return { ...(await phase(o.durationS, hist)), hist }
  } finally {
    transport.close()
  }
}
