/**
 * Real Chromium for page tests (playwright-core + Debian's `chromium`). Without one the browser tests
 * are skipped with the reason and the install line; REQUIRE_BROWSER=1 (set by .ci/run) makes that a failure.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']
export const chromiumPath = CANDIDATES.find((p): p is string => !!p && existsSync(p))

export const INSTALL_HINT = 'apt-get install -y chromium (or set CHROMIUM_PATH)'

if (!chromiumPath) {
  const reason = `No Chromium found at ${CANDIDATES.filter(Boolean).join(', ')}: browser tests skipped. Install it: ${INSTALL_HINT}`
  if (process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1 but ${reason}`)
  console.warn(reason)
}

/** Offline flags (Chromium's background services would reach Google): nothing may reach the internet, not even Google's update hosts. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
]

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS })
}

/** Screenshots are kept as test artifacts under test-results/ (git-ignored). */
export function screenshotPath(name: string): string {
  const dir = join('test-results', 'screenshots')
  mkdirSync(dir, { recursive: true })
  return join(dir, `${name}.png`)
}
