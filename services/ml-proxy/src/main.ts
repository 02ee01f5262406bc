// The only module that touches process, in the one shape every service's main.ts has (@eta/service-kit's
// runMain): tracing first, then this service's config and app, loaded only once dd-trace can patch fastify
// and undici (the remote backends' client). Models that fail to load never end the process: they keep the
// pod unready; a build failure logs one structured line and ends it with code 1.
import { runMain } from '@eta/service-kit/main';

await runMain({
  name: () => 'ml-proxy',
  config: async () => (await import('./config.ts')).configSchema,
  build: async (config) => (await import('./app.ts')).buildApp(config),
});
