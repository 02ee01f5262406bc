// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '.tools/**',
      'ml/**',
      'services/admin-web/dist/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Enums are not erasable syntax; use a union of literals.' },
      ],
    },
  },
  {
    // Services never import services.
    files: ['services/**/*.ts', 'packages/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/services/*/src/**'], message: 'Services never import other services.' }] },
      ],
    },
  },
  {
    // admin-web's app runs in the browser: its .tsx files are linted too, and it may not reach for Node.
    files: ['services/admin-web/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'Browser code: no process.' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'Browser code imports no Node built-ins.' },
            { group: ['**/services/*/src/**'], message: 'Services never import other services.' },
          ],
        },
      ],
    },
  },
  {
    // Boundaries (conventions, habit 11): domain code stays free of frameworks and adapters.
    files: ['services/*/src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['fastify', 'ioredis', 'kafkajs', 'pg', 'undici'],
              message: 'domain/ imports no I/O library.',
            },
            { group: ['**/http/**', '**/adapters/**'], message: 'domain/ never imports http/ or adapters/.' },
            { group: ['**/services/*/src/**'], message: 'Services never import other services.' },
          ],
        },
      ],
    },
  },
);
