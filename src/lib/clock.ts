/** @module Time as a dependency: the app reads the clock it is given, so tests can fix it. */
export interface Clock {
  /** Epoch milliseconds. Tests pass a fixed clock. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
