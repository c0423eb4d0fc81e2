/**
 * @module Child process looping over one in-process scenario: `inproc.ts <name> <seconds> <warm-up>`.
 * Prints one JSON Measurement line. A process of its own, so its peak RSS is the scenario's alone.
 */
import { Histogram } from '../load/histogram.ts'
import { findScenario } from '../scenarios/list.ts'
import type { Measurement } from '../types.ts'
import { peakRssMb } from './proc-stats.ts'

const [name = '', durationS = '5', warmupS = '1'] = process.argv.slice(2)
const scenario = findScenario(name)
if (scenario?.kind !== 'inproc') throw new Error(`No in-process scenario named "${name}"`)

const { op, close } = await scenario.setup()

/** Times every op; one clock read per op, since the end of one op is the start of the next. */
async function loop(seconds: number, hist?: Histogram): Promise<{ ops: number; ms: number }> {
  const start = performance.now()
  const end = start + seconds * 1000
  let ops = 0
  let t0 = start
  while (t0 < end) {
    const r = op()
    if (r instanceof Promise) await r
    const t1 = performance.now()
    hist?.record((t1 - t0) * 1e6)
    t0 = t1
    ops++
  }
  return { ops, ms: t0 - start }
}

await loop(Number(warmupS)) // let V8 optimise the loop and the op before we count
const hist = new Histogram()
const { ops, ms } = await loop(Number(durationS), hist)
await close?.()

const result: Measurement = {
  rate: ops / (ms / 1000),
  unit: 'ops/s',
  p50Ms: hist.percentileMs(50),
  p99Ms: hist.percentileMs(99),
  peakRssMb: peakRssMb('self'),
  problems: [],
}
process.stdout.write(`${JSON.stringify(result)}\n`)
