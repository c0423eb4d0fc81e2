// Applies migrations/ to the test D1 database, the same files `wrangler d1 migrations apply` reads.
import { applyD1Migrations, env } from 'cloudflare:test'

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)
