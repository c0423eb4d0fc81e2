/** Runs `consent-gateway mautic …` in-process on test deps, capturing both streams. */
import type { Deps } from '../../src/deps.ts'
import { runMautic } from '../../src/cli/mautic.ts'

export function mauticCli(deps: Deps) {
  return async (...args: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const io = { out: async (s: string) => void out.push(s), err: (s: string) => void err.push(s) }
    const code = await runMautic(args, (fn) => fn(deps), io)
    return { code, stdout: out.join('\n'), stderr: err.join('\n') }
  }
}
