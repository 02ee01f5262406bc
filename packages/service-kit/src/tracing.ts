/**
 * Datadog tracing, kept in its own entry point (`@eta/service-kit/tracing`) that imports nothing else:
 * dd-trace patches modules as they load, so it must be initialised before fastify, undici, pg, ioredis or
 * kafkajs are imported. main.ts therefore imports only config and this module statically, calls
 * `await startTracing(...)`, and imports the app dynamically afterwards (see the package README).
 */

export interface TracingConfig {
  readonly DD_TRACE_ENABLED: boolean;
}

export interface TracingOptions {
  /** The service name (conventions: one name everywhere); DD_SERVICE overrides it. */
  readonly service?: string;
  readonly version?: string;
}

let started = false;

/**
 * Loads and starts dd-trace when DD_TRACE_ENABLED is true; otherwise does nothing and dd-trace is never
 * loaded (it costs start-up time and memory). Returns whether tracing runs. The agent address and the
 * environment come from dd-trace's own variables (DD_AGENT_HOST, DD_ENV ...), set by the chart.
 */
export async function startTracing(config: TracingConfig, opts: TracingOptions = {}): Promise<boolean> {
  if (!config.DD_TRACE_ENABLED) return false;
  if (started) return true;
  // ESM imports are not seen by require hooks; this registers dd-trace's loader hook for them. The
  // specifier is a variable because dd-trace ships no types for this side-effect-only entry point.
  const loaderHook: string = 'dd-trace/register.js';
  await import(loaderHook);
  const { default: tracer } = await import('dd-trace');
  const service = process.env['DD_SERVICE'] ?? opts.service;
  tracer.init({
    ...(service ? { service } : {}),
    ...(opts.version ? { version: opts.version } : {}),
    // Adds dd.trace_id / dd.span_id to pino lines so a log line links to its trace.
    logInjection: true,
    runtimeMetrics: false,
  });
  started = true;
  return true;
}
