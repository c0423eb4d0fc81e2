// Bindings the workers test project adds on top of wrangler.toml's (see vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import('cloudflare:test').D1Migration[]
    APP_SECRET: string
    PUBLIC_URL: string
  }
}
