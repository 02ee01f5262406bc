// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const otherServices = { group: ['**/services/*/src/**'], message: 'Services never import other services.' };
const browserCode = { group: ['node:*'], message: 'Browser code imports no Node built-ins.' };

/** Node built-ins that do I/O, each with and without the `node:` prefix. */
const nodeIo = [
  'fs',
  'fs/*',
  'net',
  'tls',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'dns/*',
  'child_process',
  'cluster',
].flatMap((m) => [m, `node:${m}`]);

/** What a domain/ folder may not import (see the block that uses it). */
function domainBoundaries(io) {
  return [
    { group: io, message: 'domain/ does no I/O: files, sockets and processes belong in adapters/.' },
    {
      group: [
        'fastify',
        '@fastify/*',
        'undici',
        'ioredis',
        'pg',
        'kafkajs',
        '@electric-sql/pglite',
        'onnxruntime-node',
        'onnxruntime-*',
        'dd-trace',
      ],
      message: 'domain/ imports no framework or client: it declares a port, an adapter implements it.',
    },
    {
      group: ['@eta/cache', '@eta/events', '@eta/service-kit', '@eta/service-kit/*'],
      allowTypeImports: true,
      message: "domain/ may name these packages' types (import type), never load them: they do I/O.",
    },
    { group: ['**/http/**', '**/adapters/**'], message: 'domain/ never imports http/ or adapters/.' },
    otherServices,
  ];
}

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
      'no-restricted-imports': ['error', { patterns: [otherServices] }],
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
          patterns: [browserCode, otherServices],
        },
      ],
    },
  },
  {
    // Boundaries (conventions, habit 11): domain code is pure logic and ports. It loads no framework, no
    // client and no I/O module, and never imports http/ or adapters/; I/O lives in adapters/ (transport:
    // @eta/service-kit's dependency()). Type-only imports of the suite's packages stay allowed: they name
    // ports (TieredCache, Codec, DeadlineLike) and are erased (verbatimModuleSyntax), so nothing is loaded.
    files: ['**/src/domain/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: domainBoundaries(nodeIo) }],
    },
  },
  {
    // admin-web's domain is browser code as well.
    files: ['services/admin-web/src/domain/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [browserCode, ...domainBoundaries(nodeIo)] },
      ],
    },
  },
  {
    // Known exception: Geo's start-up loader (loadGeoIndex) reads the geodata files here, because the
    // benchmarks in loadtest/ load it from domain/index.ts. It may use node:fs, nothing else, until it
    // moves to adapters/ together with those benchmarks' imports.
    files: ['services/geo/src/domain/geo-index.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: domainBoundaries(nodeIo.filter((m) => !/^(node:)?fs(\/\*)?$/.test(m))) },
      ],
    },
  },
);
