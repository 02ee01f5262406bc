import { baseServiceEnv, loadConfigOrEnd } from '@eta/config';
import { startTracing } from '@eta/service-kit/tracing';

// The only module that touches process. dd-trace must patch fastify, undici, pg and ioredis before they
// load, and config.ts reaches ioredis and pg through the cache and database env fragments, so only the
// tracing switch is read before tracing starts; the whole environment is parsed right after (once, every
// bad key listed). A bad environment returns from main() and the process ends with code 1 (loadConfigOrEnd).
async function main(): Promise<void> {
  const tracing = loadConfigOrEnd(baseServiceEnv.pick({ DD_TRACE_ENABLED: true }), process.env);
  if (tracing === undefined) return;
  const version = process.env['APP_VERSION'];
  const role = process.env['ROLE'] ?? 'all';
  await startTracing(tracing, {
    service: role === 'all' ? 'vendor-bff' : `vendor-bff-${role}`,
    ...(version ? { version } : {}),
  });

  const { configSchema } = await import('./config.ts');
  const config = loadConfigOrEnd(configSchema, process.env);
  if (config === undefined) return;
  const { buildApp } = await import('./app.ts');
  const { runOptionsFrom, runService } = await import('@eta/service-kit');

  const app = await buildApp(config, version ? { version } : {});
  await runService(app, runOptionsFrom(config));
}

await main();
