// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'var/'] },
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
