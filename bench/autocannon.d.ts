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
    body?: string | Buffer
    /**
     * The requests each connection cycles through. `setupRequest` runs before each one is sent and
     * returns the request to send (its `body` and `headers` may differ every time); it must be sync.
     */
    requests?: { setupRequest?: (request: RequestParams, context: object) => RequestParams }[]
  }

  /** What `setupRequest` receives and returns: the defaults above, merged with the request's own. */
  export interface RequestParams {
    method: string
    path: string
    headers: Record<string, string>
    body?: string | Buffer
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
