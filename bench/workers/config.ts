/**
 * @module Where the bench's Worker is configured, and the environment wrangler runs in for it (shared
 * by bench/workers/harness.ts and the child process bench/workers/serve.ts).
 */
import { fileURLToPath } from 'node:url'

/** The bench's wrangler configuration (its D1 reads the repository's migrations/). */
export const WRANGLER_CONFIG = fileURLToPath(new URL('./wrangler.toml', import.meta.url))

/**
 * Nothing may reach the internet: no telemetry or error reports, no update check (wrangler makes it
 * with its banner), no request.cf fetch by miniflare.
 */
export const OFFLINE_ENV = {
  WRANGLER_SEND_METRICS: 'false',
  WRANGLER_SEND_ERROR_REPORTS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_HIDE_BANNER: 'true',
  NO_COLOR: '1',
}
