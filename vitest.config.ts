// One `vitest run` covers three projects: Node (real SQLite), e2e (real Chromium) and workers (workerd + D1).
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import path from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'))
  return {
    test: {
      projects: [
        {
          test: {
            name: 'node',
            include: ['test/node/**/*.test.ts'],
            testTimeout: 20_000,
          },
        },
        {
          test: {
            name: 'e2e',
            include: ['test/e2e/**/*.test.ts'],
            testTimeout: 60_000,
            hookTimeout: 60_000,
          },
        },
        {
          plugins: [
            cloudflareTest({
              main: './src/worker.ts',
              wrangler: { configPath: './wrangler.toml' },
              miniflare: {
                // What .dev.vars gives `wrangler dev` (see .dev.vars.example): wrangler.toml's
                // production transport needs a real endpoint, so development keeps mails in D1.
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  APP_SECRET: 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
                  PUBLIC_URL: 'https://gateway.test',
                  NODE_ENV: 'development',
                  MAIL_TRANSPORT: 'log',
                  ADMIN_SETUP_TOKEN: 'worker-setup-token-0123456789',
                },
              },
            }),
          ],
          test: {
            name: 'workers',
            include: ['test/worker/**/*.test.ts'],
            setupFiles: ['test/worker/apply-migrations.ts'],
            // In Node, before: the consent-gateway command run with --d1-sql (test/worker/d1-admin.test.ts).
            globalSetup: ['test/worker/d1-cli.setup.ts'],
          },
        },
      ],
    },
  }
})
