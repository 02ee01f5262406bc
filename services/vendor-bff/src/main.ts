import { baseServiceEnv, endProcess, loadConfigOrEnd } from '@eta/config';
import { startTracing } from '@eta/service-kit/tracing';

// The only module that touches process. dd-trace must patch fastify, undici, pg and ioredis before they
// load, and config.ts reaches ioredis and pg through the cache and database env fragments, so only the
// tracing switch is read before tracing starts; the whole environment is parsed (once, every bad key
// listed) right after. A start-up failure returns from main() and lets the process end with code 1
// (endProcess: no process.exit() racing V8's start-up compilation).
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
  const { buildApp, SERVICE_NAME } = await import('./app.ts');
  const { createLogger, runOptionsFrom, runService } = await import('@eta/service-kit');

  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(config, version ? { version } : {});
  } catch (err) {
    // One structured line saying why (Postgres unreachable, a failed migration ...), then exit 1: the pod
    // crash-loops with the reason in its log instead of ever turning ready.
    createLogger({ name: SERVICE_NAME, level: config.LOG_LEVEL }).fatal({ err }, 'could not start');
    endProcess(1);
    return;
  }
  await runService(app, runOptionsFrom(config));
}

await main();
