// The fixed-rate load generator reports its own CPU time a request, and the results table shows it in
// every run of a fixed-rate row: the generator's work is the same in every run, so that figure tells a
// reader whether a high p99 came with a slower machine (bench/types.ts, generatorCpuUsPerReq).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openLoop } from '../../../bench/load/open-loop.ts'
import { table, type Row } from '../../../bench/report.ts'
import type { Measurement } from '../../../bench/types.ts'

let server: Server
let url: string

beforeAll(async () => {
  server = createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('the fixed-rate load generator', () => {
  it('sends at its rate and reports its CPU time a request', async () => {
    const r = await openLoop({
      url,
      method: 'GET',
      headers: {},
      rate: 200,
      durationS: 0.5,
      connections: 4,
    })
    expect(r.sent).toBe(100)
    expect(r.errors + r.non2xx + r.unanswered).toBe(0)
    // Sending a request and reading its answer costs this process something, and not milliseconds.
    expect(r.cpuUsPerReq).toBeGreaterThan(0)
    expect(r.cpuUsPerReq).toBeLessThan(5_000)
  })

  it("puts the generator's CPU of each run beside the server's in a fixed-rate row", () => {
    const run = (p99Ms: number, generatorCpuUsPerReq: number): Measurement => ({
      rate: 100,
      unit: 'req/s',
      p50Ms: 1,
      p99Ms,
      peakRssMb: 200,
      problems: [],
      cpuUsPerReq: 900,
      generatorCpuUsPerReq,
    })
    const rounds = [run(9, 81.4), run(25, 104.6), run(11, 86)]
    const row: Row = {
      name: 'intake, at a fixed rate',
      fixedRate: { rate: 100 },
      m: rounds[2]!,
      rounds,
    }
    expect(table([row])).toContain('| 900 µs (load generator 81, 105, 86 µs) |')
    const closed: Row = {
      name: 'intake',
      m: { ...rounds[0]!, generatorCpuUsPerReq: undefined },
      rounds: [],
    }
    expect(table([closed])).toContain('| 900 µs |')
  })
})
