/**
 * @module What counting the gate's refusals costs on its hot path, in process (not part of `npm run
 * bench`): one refused decision by address, alone; with an awaited atomic write of its counter per
 * call (group commit gathers the calls in flight, as under HTTP load); and with the in-memory tally
 * that src/domain/platform/counters.ts uses, flushed every second. Variants alternate in rounds, since
 * a shared machine drifts within minutes. Run: node --import tsx bench/experiments/gate-counting.ts
 */
import {
  counterQuery,
  flushCounters,
  scheduleCounterFlush,
  tallyRefusals,
} from '../../src/domain/platform/counters.ts'
import { gateByEmail } from '../../src/domain/sending/gate.ts'
import { seededDeps } from '../apps/seeded-app.ts'

const { deps, close } = await seededDeps()
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const CALLS = Number(process.env.CALLS ?? 20_000)
const IN_FLIGHT = Number(process.env.IN_FLIGHT ?? 50)

/** One refused decision (synchronous while the purposes are cached, as on the gate's hot path). */
const refuse = async () => {
  const r = await gateByEmail(deps, 'newsletter', 'nobody@example.test')
  if (!r.ok || r.decision.allowed) throw new Error('expected a refusal')
  return r.decision.reason!
}

const variants: Record<string, () => unknown> = {
  'decision only': () => refuse(),
  'decision + awaited counter write': async () => {
    const reason = await refuse()
    await deps.atomic([
      counterQuery(
        'sends_refused',
        { place: 'gate_api', purpose: 'newsletter', reason },
        deps.clock.now(),
      ),
    ])
  },
  'decision + in-memory tally': async () => {
    tallyRefusals(deps, 'gate_api', 'newsletter', [await refuse()])
    scheduleCounterFlush(deps)
  },
}

async function run(op: () => unknown): Promise<number> {
  const started = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i += IN_FLIGHT)
    await Promise.all(Array.from({ length: IN_FLIGHT }, () => op()))
  return Number(process.hrtime.bigint() - started) / 1000 / CALLS
}

await run(variants['decision only']!) // warm-up
const results: Record<string, number[]> = {}
for (let r = 0; r < ROUNDS; r++)
  for (const [name, op] of Object.entries(variants)) (results[name] ??= []).push(await run(op))
await flushCounters(deps)
for (const [name, us] of Object.entries(results)) {
  const sorted = [...us].sort((a, b) => a - b)
  console.log(
    `${name.padEnd(36)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} µs/call  (rounds: ${us.map((u) => u.toFixed(2)).join(', ')})`,
  )
}
close()
