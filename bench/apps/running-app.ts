/** @module What a bench app gives the load generator once it listens (every app in bench/apps/ returns one). */
export interface RunningApp {
  port: number
  /** Headers every request to this app needs (e.g. the API key a seeded app created). */
  headers?: Record<string, string>
  /**
   * Values for `{name}` placeholders in scenario paths that exist only once the app is set up (e.g. a
   * seeded contact's preference-page token).
   */
  pathParams?: Record<string, string>
  /**
   * Values for `{name}` placeholders in the paths a scenario's `next` returns, used in turn (e.g.
   * the link tokens of many contacts).
   */
  pools?: Record<string, string[]>
  close(): Promise<void>
}
