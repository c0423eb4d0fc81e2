import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { passwordProblem, PASSWORD_MAX_LENGTH } from '../../../../src/domain/admin/passwords.ts'

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url))

describe('staff password strength', () => {
  it('refuses short, overlong, common and guessable passwords, in English and French', async () => {
    expect(await passwordProblem('Tr0ub4dor&3')).toBe('too_short')
    expect(await passwordProblem('x'.repeat(PASSWORD_MAX_LENGTH + 1))).toBe('too_long')
    expect(await passwordProblem('password1234')).toBe('too_weak')
    expect(await passwordProblem('motdepasse123')).toBe('too_weak')
    // The account's own address and the organisation's name count as guessable words.
    const inputs = ['ops@zephyrine.example', 'Quantacorp']
    expect(await passwordProblem('zephyrinequantacorp', inputs)).toBe('too_weak')
    expect(await passwordProblem('zephyrinequantacorp')).toBeNull()
    expect(await passwordProblem('velvet harbour quietly 7 lanterns')).toBeNull()
  })

  // Their word lists were half of the objects of every process's heap, imported with the module
  // (src/domain/admin/passwords.ts says why that mattered). A fresh process, as `npm start` runs.
  it("loads zxcvbn's dictionaries only when a password is first judged", async () => {
    const script = `
      import { createRequire } from 'node:module'
      const loaded = () => Object.keys(createRequire(import.meta.url).cache)
        .filter((k) => k.includes('@zxcvbn-ts')).length
      await import('./src/runtime/node/server.ts')
      await import('./src/app.ts')
      const before = loaded()
      const { passwordProblem } = await import('./src/domain/admin/passwords.ts')
      const problem = await passwordProblem('password1234')
      console.log(JSON.stringify({ before, after: loaded(), problem }))
    `
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: ROOT },
    )
    const seen = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>
    expect(seen.before).toBe(0)
    expect(seen.after).toBeGreaterThan(0)
    expect(seen.problem).toBe('too_weak')
  }, 60_000)
})
