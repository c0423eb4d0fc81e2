// `consent-gateway mail-log`: the mails MAIL_TRANSPORT=log kept in D1 on Workers, read back in
// development from the JSON `wrangler d1 execute --json` prints, as README "Deploying to Cloudflare
// Workers" shows. The rows are written by the Workers log transport itself (here over SQLite).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { d1LogMailTransport } from '../../../src/runtime/worker/mail.ts'
import { TEST_SECRET, testDeps } from '../../helpers/deps.ts'
import { BIN } from '../../helpers/spawn.ts'

async function loggedMails() {
  const t = await testDeps()
  const transport = d1LogMailTransport(t.deps)
  await transport.send({
    from: 'no-reply@gateway.test',
    to: 'anne@exemple.fr',
    subject: 'Confirmez votre inscription',
    html: '<p>Confirmez</p>',
    text: 'Confirmez : http://localhost:8787/c/TOKEN123',
  })
  const rows = t.sqlite.prepare('SELECT * FROM mail_log').all()
  // What `npx wrangler d1 execute DB --local --json --command "SELECT * FROM mail_log"` prints.
  return JSON.stringify([{ results: rows, success: true, meta: { duration: 1 } }], null, 2)
}

function run(args: string[], opts: { cwd: string; input: string; secret?: string }) {
  const env = {
    PATH: process.env.PATH ?? '',
    ...(opts.secret && { APP_SECRET: opts.secret }),
  } as unknown as NodeJS.ProcessEnv
  return spawnSync(process.execPath, [BIN, 'mail-log', ...args], {
    cwd: opts.cwd,
    env,
    input: opts.input,
    encoding: 'utf8',
  })
}

describe('consent-gateway mail-log', () => {
  it('opens the mails of wrangler d1 execute --json output with APP_SECRET, links included', async () => {
    const json = await loggedMails()
    expect(json).not.toContain('anne@exemple.fr') // encrypted at rest
    const res = run([], {
      cwd: mkdtempSync(join(tmpdir(), 'cg-ml-')),
      input: json,
      secret: TEST_SECRET,
    })
    expect(res.status).toBe(0)
    expect(res.stdout).toContain('To:      anne@exemple.fr')
    expect(res.stdout).toContain('Subject: Confirmez votre inscription')
    expect(res.stdout).toContain('http://localhost:8787/c/TOKEN123')
  })

  it('takes APP_SECRET from ./.dev.vars as wrangler dev does, and says when it cannot open a mail', async () => {
    const json = await loggedMails()
    const dir = mkdtempSync(join(tmpdir(), 'cg-ml-'))
    writeFileSync(join(dir, '.dev.vars'), `NODE_ENV=development\nAPP_SECRET="${TEST_SECRET}"\n`)
    writeFileSync(join(dir, 'mails.json'), json)
    const res = run(['--file', 'mails.json'], { cwd: dir, input: '' })
    expect(res.status).toBe(0)
    expect(res.stdout).toContain('To:      anne@exemple.fr')
    const wrong = run([], {
      cwd: mkdtempSync(join(tmpdir(), 'cg-ml-')),
      input: json,
      secret: 'w'.repeat(40),
    })
    expect(wrong.stdout).toMatch(/cannot be opened with this APP_SECRET/)
  })
})
