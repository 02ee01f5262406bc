import { defineConfig } from 'vitest/config';

// Two tiers (conventions: tests tiered by cost). `unit` needs nothing but Node; `integration` talks to
// real Postgres, Redis and Kafka whose URLs come from scripts/backing-services.sh (DATABASE_URL,
// REDIS_URL, KAFKA_BROKERS).
export default defineConfig({
  test: {
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            '{packages,services,loadtest}/*/{src,test}/**/*.test.ts',
            'loadtest/**/*.test.ts',
            'scripts/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/*.integration.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [
            '{packages,services}/*/test/**/*.integration.test.ts',
            'loadtest/test/**/*.integration.test.ts',
          ],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
