// BENCH_PIN (bench/processes/pinning.ts): the servers get the first half of the CPUs, the load
// generators the rest, never an empty side; unset or 0 pins nothing.
import { describe, expect, it } from 'vitest'
import { pinningFor } from '../../../bench/processes/pinning.ts'

describe('BENCH_PIN splits the CPUs between the servers and the load', () => {
  it('pins nothing when unset or 0', () => {
    expect(pinningFor(undefined, 8)).toBeUndefined()
    expect(pinningFor('', 8)).toBeUndefined()
    expect(pinningFor('0', 8)).toBeUndefined()
  })

  it('gives each side its own CPUs, in taskset syntax', () => {
    expect(pinningFor('1', 2)).toEqual({ servers: '0', generators: '1' })
    expect(pinningFor('1', 3)).toEqual({ servers: '0', generators: '1-2' })
    expect(pinningFor('1', 8)).toEqual({ servers: '0-3', generators: '4-7' })
  })

  it('refuses a single CPU, where nothing can be kept apart', () => {
    expect(() => pinningFor('1', 1)).toThrow(/at least 2 CPUs/)
  })
})
