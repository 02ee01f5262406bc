// The only module that touches process, in the one shape every service's main.ts has (@eta/service-kit's
// runMain): tracing first, then this service's config and app, loaded only once dd-trace can patch fastify,
// undici, pg and ioredis (config.ts reaches ioredis and pg through the cache and database env fragments).
// A build failure (Postgres unreachable, a failed migration ...) logs one structured line and ends the
// process with code 1. One image, three Deployments: the role names the service in logs and traces.
import { runMain } from '@eta/service-kit/main';

await runMain({
  name: (env) =>
    env['ROLE'] === undefined || env['ROLE'] === 'all' ? 'vendor-bff' : `vendor-bff-${env['ROLE']}`,
  config: async () => (await import('./config.ts')).configSchema,
  build: async (config, version) => (await import('./app.ts')).buildApp(config, version ? { version } : {}),
});
