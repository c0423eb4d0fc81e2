/**
 * @module The latency histogram of the load generators and of the in-process loop
 * (bench/processes/inproc.ts).
 */

/** Bucket i holds values near e^(i/100) ns: neighbours differ by 1 %, good enough for p50/p99. */
const STEPS = 100

/**
 * A fixed-size log histogram. Keeping every sample would cost ~8 bytes per op (millions per second
 * for the in-process loops) and inflate the very peak RSS we report.
 */
export class Histogram {
  private readonly counts = new Float64Array(26 * STEPS) // up to e^26 ns, about 3 minutes
  private total = 0

  record(ns: number): void {
    const i = Math.min(this.counts.length - 1, Math.max(0, Math.round(Math.log(ns) * STEPS)))
    this.counts[i]! += 1
    this.total += 1
  }

  /** The p-th percentile (0..100) in milliseconds; 0 when nothing was recorded. */
  percentileMs(p: number): number {
    const rank = (p / 100) * this.total
    let seen = 0
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!
      if (seen >= rank && seen > 0) return Math.exp(i / STEPS) / 1e6
    }
    return 0
  }
}
