/**
 * The one shape of every service's `src/main.ts` (`@eta/service-kit/main`), the only code that touches the
 * process: read the tracing switch, start tracing, and only then load the service's config and app, so that
 * dd-trace patches fastify, undici, pg and ioredis before anything imports them. Like `./tracing`, this
 * entry point imports nothing that tracing patches; the rest of the kit is imported dynamically afterwards.
 *
 * A bad environment prints every bad key and ends the process with code 1; so does a failed build, after one
 * structured `could not start` line (the pod crash-loops with the reason in its log instead of ever turning
 * ready). Both end through endProcess, never process.exit() racing V8's start-up compilation.
 */
import { baseServiceEnv, endProcess, loadConfigOrEnd, type BaseServiceConfig } from '@eta/config';
import type { z } from 'zod';
import type { ServiceApp } from './build-service.ts';
import type { ServiceRunConfig } from './run-service.ts';
import { startTracing } from './tracing.ts';

export interface MainOptions<C extends BaseServiceConfig & ServiceRunConfig> {
  /** The service name in logs and traces; `env` is the raw environment (the BFF adds its role). */
  readonly name: (env: NodeJS.ProcessEnv) => string;
  /** The service's config schema, imported only after tracing started. */
  readonly config: () => Promise<z.ZodType<C>>;
  /** Builds the app (imported only after tracing started); never listens. */
  readonly build: (config: C, version: string | undefined) => Promise<ServiceApp>;
}

export async function runMain<C extends BaseServiceConfig & ServiceRunConfig>(
  opts: MainOptions<C>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const tracing = loadConfigOrEnd(baseServiceEnv.pick({ DD_TRACE_ENABLED: true }), env);
  if (tracing === undefined) return;
  const version = env['APP_VERSION'];
  const name = opts.name(env);
  await startTracing(tracing, { service: name, ...(version ? { version } : {}) });

  const config = loadConfigOrEnd(await opts.config(), env);
  if (config === undefined) return;
  const { createLogger, runOptionsFrom, runService } = await import('./index.ts');
  let app: ServiceApp;
  try {
    app = await opts.build(config, version);
  } catch (err) {
    createLogger({ name, level: config.LOG_LEVEL }).fatal({ err }, 'could not start');
    endProcess(1);
    return;
  }
  await runService(app, runOptionsFrom(config));
}
