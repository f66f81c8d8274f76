// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'var/', 'console/src/api/schema.ts'] }, // schema.ts: generated (npm run api:types)
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // The console runs in a browser (console/src): its globals, not Node's.
    files: ['console/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly', document: 'readonly', navigator: 'readonly', location: 'readonly', history: 'readonly', performance: 'readonly',
        fetch: 'readonly', Headers: 'readonly', Request: 'readonly', Response: 'readonly', URL: 'readonly', URLSearchParams: 'readonly',
        File: 'readonly', FileList: 'readonly', Blob: 'readonly', HTMLElement: 'readonly', KeyboardEvent: 'readonly', Intl: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', console: 'readonly', process: 'off', Buffer: 'off',
      },
    },
  },
  {
    // The core owns its ports (src/ports/) and imports no adapter: the
    // delivery targets, ledgers and sources are wired in by cli/ (and later
    // server/) only. Tests and test-support may use adapters (in-memory ones
    // named as such) to drive the core.
    files: ['src/{xip,items,message,mapping,connector,ports}/**/*.ts', 'src/errors.ts', 'src/limits.ts'],
    ignores: ['**/*.test.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/delivery', '**/delivery/**', '**/ledger', '**/ledger/**', '**/sources', '**/sources/**', '**/evidence/**', '**/home/**', '**/demo/**', 'croner', 'cli-progress', 'pino', '**/cli/**', '**/server/**', 'imapflow', 'better-sqlite3', 'kysely', 'pg', 'ssh2-sftp-client', '@azure/*'],
              message: 'The core imports no adapter: depend on a port in src/ports/ and let cli/ (or server/) wire the adapter in.',
            },
          ],
        },
      ],
    },
  },
);
