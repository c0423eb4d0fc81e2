/** Runs the real `consent-gateway` bin as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/consent-gateway.js', import.meta.url))

export interface Spawned {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>
}

export function spawnBin(
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Spawned {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(PORT|HOST|PUBLIC_URL|DATABASE_PATH|APP_SECRET|NODE_ENV|MAIL_|SMTP_|MAUTIC_|MIRROR_|RELAY_)/.test(
          k,
        ),
    ),
  )
  const env = { ...clean, ...opts.env } as NodeJS.ProcessEnv
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd, env })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, ms = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll)
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`))
        }, ms)
        const poll = setInterval(() => {
          const m = out.match(pattern)
          if (m) {
            clearInterval(poll)
            clearTimeout(timer)
            resolve(m)
          }
        }, 25)
        void exited.then(() =>
          setTimeout(() => {
            if (!out.match(pattern)) {
              clearInterval(poll)
              clearTimeout(timer)
              reject(new Error(`process exited before ${pattern}; output:\n${out}`))
            }
          }, 50),
        )
      })
    },
  }
}
