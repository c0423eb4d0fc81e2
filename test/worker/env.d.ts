// Bindings the workers test project adds on top of wrangler.toml's (see vitest.config.ts).
import type { D1Migration } from 'cloudflare:test'

declare global {
  namespace Cloudflare {
    interface Env {
      TEST_MIGRATIONS: D1Migration[]
      APP_SECRET: string
      PUBLIC_URL: string
      ADMIN_SETUP_TOKEN: string
    }
  }
}
