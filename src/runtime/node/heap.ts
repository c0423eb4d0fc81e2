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
 *
 * The old generation's growth between full collections fixed at OLD_GENERATION_GROWTH_PERCENT.
 * After each full collection V8 sets where the next one starts: what survived times a factor of its
 * choosing, from how fast it marks against how fast the program fills the old generation. For this
 * server under webhooks it chose its smallest, 1.1 (`--trace-gc-verbose`: 46 MB survived, the next
 * limit at 62 MB), so a full collection came after every few MB that requests left behind: every
 * 1.5 to 12 s at a million contacts and 725 to 1,450 webhooks a second, each a cluster of slow
 * answers (its marking steps and final pause on the request thread, its concurrent marking on the
 * same two cores). At a factor of 2 the next comes after as much again as survived: none in most
 * runs of 20 to 60 s, the webhooks' p99 lower in 8 of 9 interleaved pairs, for up to 25 MB more peak
 * RSS (bench/results.md, "Old generation growth"). On a small database, where full collections were
 * rarer, the p99 did not move; the slowest answers (p999) came faster in 3 of 4 pairs.
 */
import { setFlagsFromString } from 'node:v8'

/** The old generation may grow by this share of what survived a full collection before the next. */
export const OLD_GENERATION_GROWTH_PERCENT = 100

export const SERVER_V8_FLAGS = [
  '--no-allocation-site-pretenuring',
  `--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`,
] as const

/** Idempotent. V8 flags are the process's: the worker threads started afterwards share them. */
export function tuneGarbageCollector(): void {
  for (const flag of SERVER_V8_FLAGS) setFlagsFromString(flag)
}
