// Lint: typescript-eslint's recommended rules plus the layering rules of design/STYLE.md §8.2–8.3.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const NODE_ONLY = ['better-sqlite3', '@hono/node-server', 'nodemailer', 'smtp-server', 'node:*']

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'src/generated/',
      'dist/',
      '.wrangler/',
      'worker-configuration.d.ts',
      'test-results/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Shared code runs on Node and Workers: Web-standard APIs only (ARCHITECTURE.md "One app, two runtimes").
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/cli.ts', 'src/cli/**', 'src/runtime/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: NODE_ONLY,
              message:
                'Node-only: keep it in src/node.ts or src/runtime/node/ and inject it through deps.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'process',
          message: 'Read configuration through parseConfig(env), passed in deps.',
        },
        { name: 'Buffer', message: 'Use Uint8Array and src/lib/encoding.ts.' },
      ],
    },
  },
  {
    // The domain decides; it knows nothing of HTTP (STYLE.md §8.3).
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['hono', 'hono/*', ...NODE_ONLY],
              message: 'The domain must not depend on HTTP or a runtime.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../domain/*', '../routes/*', '../db/*', '../runtime/*', ...NODE_ONLY],
              message: 'lib/ sits below every layer.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests read loosely typed JSON answers; `any` there is the honest type.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
