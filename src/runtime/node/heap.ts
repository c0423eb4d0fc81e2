/**
 * @module V8's garbage collector as the server wants it. `npm start` gives these flags on Node's
 * command line (package.json), from the first instruction, as the bench does for its processes;
 * Node refuses them in NODE_OPTIONS, so startServer sets them too, for every other way of starting
 * (`consent-gateway serve`, a process manager), if only once the modules are loaded.
 *
 * Allocation-site pretenuring off. V8 watches, for each place in the code that allocates, how many
 * of its objects outlive young-generation collections; past a share, it allocates that place's
 * objects straight into the old generation, for good. Some of the gateway's per-request places
 * tipped that way (decisions made after its modules were loaded, as setting the flag only then
 * still mended it), and their short-lived objects then filled the old generation. Measured with it
 * on and off in interleaved runs (bench/results.md, "Pretenuring"): at a million contacts and
 * 1,300 webhooks a second, a full collection every 1.5 s instead of one or two in 20 s, p99
 * 17-29 ms instead of 5-10 ms; the preference page and the admin dashboard served 20-40 % fewer
 * requests a second, their young collections taking 2-3 ms each instead of under one. The gate,
 * the send and the intake at 100 webhooks a second did not move.
 */
import { setFlagsFromString } from 'node:v8'

export const SERVER_V8_FLAGS = ['--no-allocation-site-pretenuring'] as const

/** Idempotent. V8 flags are the process's: the worker threads started afterwards share them. */
export function tuneGarbageCollector(): void {
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag)
}
