/** @module Minimal types for autocannon 9, which ships none (and @types/autocannon is not installed). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface Options {
    url: string
    connections?: number
    /** Seconds. */
    duration?: number
    method?: string
    headers?: Record<string, string>
    body?: string
  }

  export interface Result {
    /** Seconds actually run. */
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    requests: { total: number; average: number }
    /** Milliseconds, truncated to whole ms by autocannon's histogram. */
    latency: { p50: number; p99: number }
  }

  /** Without a callback autocannon returns an emitter that is also a promise of the result. */
  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void
    on(
      event: 'response',
      listener: (
        client: unknown,
        statusCode: number,
        resBytes: number,
        responseTimeMs: number,
      ) => void,
    ): this
  }

  export default function autocannon(opts: Options): Instance
}
