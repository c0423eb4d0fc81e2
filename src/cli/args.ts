/** @module Command-line options: `--name value` only, all strings; anything else is a usage error (exit 2). */
import { parseArgs } from 'node:util'

export class UsageError extends Error {}

export function options<K extends string>(
  args: string[],
  names: readonly K[],
): Partial<Record<K, string>> {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
      strict: true,
      allowPositionals: false,
    })
    return values as Partial<Record<K, string>>
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}
