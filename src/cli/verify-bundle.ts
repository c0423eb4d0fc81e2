/**
 * @module `consent-gateway verify-bundle FILE [--jwks FILE|URL]`: checks a proof bundle offline
 * (src/domain/compliance/bundle-verify.ts), line by line, so a bundle of any size is checked within
 * memory. The keys: a saved copy of /.well-known/jwks.json, that URL, or, without --jwks, the keys of
 * the gateway's own database (DATABASE_PATH). Exits 0 when it holds, 1 naming each problem, 2 on bad use.
 */
import { createReadStream } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { JSONWebKeySet } from 'jose'
import { UsageError } from './args.ts'
import type { CliIo, WithDeps } from './mautic.ts'
import { bundleVerifier } from '../domain/compliance/bundle-verify.ts'
import { publishedJwks } from '../domain/consent/signing-keys.ts'

export const VERIFY_BUNDLE_USAGE = `Usage: consent-gateway verify-bundle FILE [--jwks FILE|URL]`

const processIo: CliIo = {
  out: (text) => new Promise<void>((resolve) => process.stdout.write(`${text}\n`, () => resolve())),
  err: (text) => console.error(text),
}

async function loadJwks(source: string): Promise<JSONWebKeySet> {
  const text = /^https?:\/\//.test(source)
    ? await (async () => {
        const res = await fetch(source, { signal: AbortSignal.timeout(10_000) })
        if (!res.ok) throw new Error(`${source} answered ${res.status}`)
        return res.text()
      })()
    : await readFile(source, 'utf8')
  const jwks = JSON.parse(text) as JSONWebKeySet
  if (!Array.isArray(jwks.keys)) throw new Error(`${source} is not a JWKS (no "keys")`)
  return jwks
}

export async function verifyBundleCommand(
  args: string[],
  withDeps: WithDeps,
  io: CliIo = processIo,
): Promise<number> {
  let file: string | undefined
  let jwksSource: string | undefined
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { jwks: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    })
    if (positionals.length !== 1) throw new Error('name one bundle file')
    file = positionals[0]
    jwksSource = values.jwks
  } catch (err) {
    throw new UsageError(`verify-bundle: ${(err as Error).message}. ${VERIFY_BUNDLE_USAGE}`)
  }
  let jwks: JSONWebKeySet | undefined
  try {
    if (jwksSource) jwks = await loadJwks(jwksSource)
    else
      await withDeps(async (deps) => {
        jwks = await publishedJwks(deps)
        return 0
      })
  } catch (err) {
    io.err(`Cannot read the keys: ${(err as Error).message}`)
    return 2
  }
  const verifier = bundleVerifier(jwks!)
  try {
    const lines = createInterface({ input: createReadStream(file!), crlfDelay: Infinity })
    for await (const line of lines) await verifier.line(line)
  } catch (err) {
    io.err(`Cannot read ${file}: ${(err as Error).message}`)
    return 2
  }
  const report = await verifier.finish()
  const summary =
    `bundle ${report.bundle_id ?? '?'}: ${report.events} consent events of ${report.contacts} people, ` +
    `${report.notices} wordings, ${report.pages} pages` +
    (report.checkpoint ? `, cut at the checkpoint of ${report.checkpoint.covered_until}` : '')
  if (report.ok) {
    await io.out(`Bundle verified: ${summary}; every hash and signature holds.`)
    return 0
  }
  await io.out(`BUNDLE REFUSED: ${summary}; ${report.problems.length} problem(s):`)
  for (const p of report.problems) await io.out(`  - ${p}`)
  return 1
}
