// The only module that touches process, in the one shape every service's main.ts has (@eta/service-kit's
// runMain): tracing first, then this service's config and app, loaded only once dd-trace can patch fastify
// and ioredis (config.ts reaches ioredis through @eta/cache's env fragment). A build failure (missing or
// corrupt geodata ...) logs one structured line and ends the process with code 1.
import { runMain } from '@eta/service-kit/main';

await runMain({
  name: () => 'geo',
  config: async () => (await import('./config.ts')).configSchema,
  build: async (config) => (await import('./app.ts')).buildApp(config),
});
