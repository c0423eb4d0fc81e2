// Lint: typescript-eslint's recommended rules plus the layering of docs/architecture.md ("Layers").
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const NODE_ONLY = ['better-sqlite3', '@hono/node-server', 'nodemailer', 'smtp-server', 'node:*']

/** Import specifiers that reach a folder of src/, from any depth (`../x/…`, `../../x/…`). */
const folder = (name) => [`./${name}/*`, `../${name}/*`, `../../${name}/*`, `../../../${name}/*`]
/** …and a sibling folder of src/domain/ (`../x/…` from inside domain/). */
const domainPart = (name) => [`../${name}/*`, `../../domain/${name}/*`, `../domain/${name}/*`]

/**
 * One layer: the files, the folders they must not import (value imports; a type-only import is
 * allowed, it leaves nothing at run time), and why. Kysely's query builder is for src/db/ alone.
 */
function layer(files, forbidden, message, { queries = true } = {}) {
  // Node-only packages are refused by the rule on every shared file above.
  const patterns = [{ group: forbidden, message }]
  return {
    files,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: patterns.map((p) => ({ ...p, allowTypeImports: true })) },
      ],
      ...(queries && {
        'no-restricted-syntax': [
          'error',
          {
            selector:
              'CallExpression[callee.property.name=/^(selectFrom|insertInto|updateTable|deleteFrom|replaceInto|mergeInto)$/]',
            message:
              'Queries live in src/db/repositories/ (the only Kysely code): call a repository function.',
          },
          {
            selector:
              "ImportDeclaration[source.value='kysely'][importKind!='type'] > ImportSpecifier[imported.name='sql'][importKind!='type']",
            message: 'Raw SQL lives in src/db/repositories/.',
          },
        ],
      }),
    },
  }
}

const folders = (...names) => names.flatMap(folder)
const parts = (...names) => names.flatMap(domainPart)
const HTTP = ['hono', 'hono/*']
const APP = ['../app.ts', '../../app.ts', '../../../app.ts']
const ABOVE_MAUTIC = [...folders('jobs', 'routes', 'middleware', 'runtime', 'cli'), ...APP]
const ABOVE_DOMAIN = [...folder('mautic'), ...ABOVE_MAUTIC]

// The layers, from the ground up: lib <- db <- domain (platform <- consent <- sending, rights <-
// compliance; admin <- operations) <- mautic <- jobs; routes and middleware sit on the domain;
// runtime/ and the entries wire.
const LAYERS = [
  [
    'src/lib',
    [...folders('db', 'domain', 'mail'), ...ABOVE_DOMAIN],
    'lib/ sits below every layer.',
  ],
  [
    'src/db',
    [...folders('domain', 'mail'), ...ABOVE_DOMAIN, '../deps.ts', '../../deps.ts'],
    'db/ holds the tables and their queries; it knows no layer above it.',
    { queries: false },
  ],
  [
    'src/mail',
    [...folders('db', 'domain'), ...ABOVE_DOMAIN],
    'mail/ renders and transports mail; it knows nothing of the ledger.',
  ],
  [
    'src/domain/platform',
    [
      ...parts('consent', 'sending', 'rights', 'compliance', 'admin', 'operations'),
      ...ABOVE_DOMAIN,
      ...HTTP,
    ],
    'domain/platform is the ground of the domain: contacts, tokens, keys, limits, the outbox.',
  ],
  [
    'src/domain/consent',
    [...parts('sending', 'rights', 'compliance', 'admin', 'operations'), ...ABOVE_DOMAIN, ...HTTP],
    'domain/consent stands on platform only; sending and rights stand on it.',
  ],
  [
    'src/domain/sending',
    [...parts('rights', 'compliance', 'admin', 'operations'), ...ABOVE_DOMAIN, ...HTTP],
    'domain/sending stands on consent and platform.',
  ],
  [
    'src/domain/rights',
    [...parts('sending', 'compliance', 'admin', 'operations'), ...ABOVE_DOMAIN, ...HTTP],
    'domain/rights stands on consent and platform.',
  ],
  [
    'src/domain/compliance',
    [...parts('sending', 'admin', 'operations'), ...ABOVE_DOMAIN, ...HTTP],
    'domain/compliance (inventory, processors, risks, proof bundles, incidents) stands on rights, consent and platform.',
  ],
  [
    'src/domain/admin',
    [...parts('operations'), ...ABOVE_DOMAIN, ...HTTP],
    'domain/admin decides; it knows nothing of HTTP or the connectors.',
  ],
  [
    'src/domain/operations',
    [...ABOVE_DOMAIN, ...HTTP],
    'domain/operations (retention, monitor, alerts, review, backups) stands on the rest of the domain; it knows nothing of HTTP or the connectors.',
  ],
  [
    'src/mautic',
    [...ABOVE_MAUTIC, ...HTTP],
    'mautic/ is a connector on top of the domain; jobs and routes call it, not the reverse.',
  ],
  [
    'src/jobs',
    [...folders('routes', 'middleware', 'runtime', 'cli'), ...APP, ...HTTP],
    'jobs/ ties the domain and the connectors together; only runtimes call it.',
  ],
  [
    'src/{middleware,routes}',
    folders('db', 'jobs', 'runtime', 'cli'),
    'HTTP parses, validates and authorizes, then calls the domain (route -> domain -> repository).',
  ],
]

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
    // Shared code runs on Node and Workers: Web-standard APIs only.
    files: ['src/**/*.ts'],
    ignores: ['src/node.ts', 'src/cli/**', 'src/runtime/node/**'],
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
  ...LAYERS.map(([dir, forbidden, message, options]) =>
    layer([`${dir}/**/*.ts`], forbidden, message, options),
  ),
  {
    // Tests read loosely typed JSON answers; `any` there is the honest type.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
)
