import { z } from 'zod';

/**
 * A service's environment is parsed once, in main.ts, into a typed config object. A bad environment
 * stops the process with one message that lists every bad key and why, so an operator fixes them all
 * in one deploy instead of one per crash loop.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid configuration (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n` +
        issues.map((i) => `  - ${i.key}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface ConfigIssue {
  readonly key: string;
  readonly message: string;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Parses `env` with `schema`; throws a ConfigError naming every bad key. Empty strings count as unset. */
export function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const cleaned: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      key: issue.path.map(String).join('.') || '(root)',
      message: issue.message,
    })),
  );
}

/**
 * Ends the process with `code` the way Node ends when it runs out of work, instead of `process.exit()`.
 * `process.exit()` joins V8's platform threads at once, and on Node 24 that can deadlock with a concurrent
 * Maglev/Sparkplug compile job parked waiting for a main-thread GC that never comes (nodejs/node#54918).
 * Seen here: Geo, started with a bad environment during start-up compilation, printed its reason and never
 * exited (2 of 160 runs, four at a time). A draining event loop runs the GC those jobs wait for. If a
 * handle still keeps the loop alive after `graceMs`, `process.exit()` ends it anyway.
 */
export function endProcess(code: number, graceMs = 2000): void {
  process.exitCode = code;
  setTimeout(() => process.exit(code), graceMs).unref();
}

function reportConfigError(err: ConfigError): void {
  process.stderr.write(
    JSON.stringify({ severity: 'CRITICAL', level: 60, msg: err.message, issues: err.issues }) + '\n',
  );
}

/**
 * Loads config in a service's main.ts. On failure it writes one CRITICAL line naming every bad key, ends
 * the process with code 1 (`endProcess`: once main.ts returns) and gives `undefined`, so main.ts stops
 * starting. A misconfigured pod fails fast and its log says exactly what to fix.
 */
export function loadConfigOrEnd<S extends z.ZodType>(
  schema: S,
  env: Env,
  end: (code: number) => void = endProcess,
): z.output<S> | undefined {
  try {
    return parseEnv(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    reportConfigError(err);
    end(1);
    return undefined;
  }
}

/**
 * The same for one-shot CLIs (migrate, seed): on failure writes the line and exits 1 at once.
 */
export function loadConfigOrExit<S extends z.ZodType>(
  schema: S,
  env: Env,
  exit: (code: number) => never = (code) => process.exit(code),
): z.output<S> {
  try {
    return parseEnv(schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    reportConfigError(err);
    return exit(1);
  }
}

// Small typed readers for env strings. Each gives a message that says what was expected.

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

export const envBool = (defaultValue: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => TRUE.has(v) || FALSE.has(v), { message: 'expected true or false' })
    .transform((v) => TRUE.has(v))
    .optional()
    .transform((v) => v ?? defaultValue);

export const envInt = (defaultValue: number | undefined, opts: { min?: number; max?: number } = {}) => {
  let n = z.coerce.number({ message: 'expected an integer' }).int({ message: 'expected an integer' });
  if (opts.min !== undefined) n = n.min(opts.min, { message: `must be at least ${opts.min}` });
  if (opts.max !== undefined) n = n.max(opts.max, { message: `must be at most ${opts.max}` });
  return defaultValue === undefined ? n : n.default(defaultValue);
};

export const envNumber = (defaultValue: number, opts: { min?: number; max?: number } = {}) => {
  let n = z.coerce.number({ message: 'expected a number' }).refine(Number.isFinite, {
    message: 'expected a finite number',
  });
  if (opts.min !== undefined)
    n = n.refine((v) => v >= opts.min!, { message: `must be at least ${opts.min}` });
  if (opts.max !== undefined) n = n.refine((v) => v <= opts.max!, { message: `must be at most ${opts.max}` });
  return n.default(defaultValue);
};

export const envPort = (defaultValue: number) => envInt(defaultValue, { min: 0, max: 65535 });

export const envUrl = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `expected a URL (${protocols.join(', ')})` },
  );

/** Comma-separated list, e.g. KAFKA_BROKERS=127.0.0.1:9092,127.0.0.2:9092. */
export const envList = () =>
  z.string().transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    message: 'expected one of fatal, error, warn, info, debug, trace, silent',
  })
  .default('info');

/** Keys that every service shares; a service schema extends this. */
export const baseServiceEnv = z.object({
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: logLevel,
  SHUTDOWN_DELAY_MS: envInt(5000, { min: 0, max: 120_000 }),
  SHUTDOWN_TIMEOUT_MS: envInt(10_000, { min: 0, max: 300_000 }),
  DD_TRACE_ENABLED: envBool(false),
  MAX_EVENT_LOOP_DELAY_MS: envInt(200, { min: 0 }),
  /**
   * Admission control (service-kit admission.ts): requests answered at once with 503 OVERLOADED and
   * Retry-After when this many are already in flight (0 = no limit), or when the event loop has had a
   * standing queue of more than MAX_QUEUE_MS for 100 ms (0 = off).
   */
  MAX_IN_FLIGHT: envInt(256, { min: 0, max: 1_000_000 }),
  MAX_QUEUE_MS: envInt(10, { min: 0, max: 60_000 }),
  REQUEST_TIMEOUT_MS: envInt(10_000, { min: 1 }),
  /**
   * Which requests get an access-log line. `all` at thousands of requests per second per pod costs more
   * CPU than the handlers (one write per line) and a lot of log volume; latency is on /metrics anyway,
   * so by default only failed (status >= 400) and slow requests are logged.
   */
  ACCESS_LOG: z
    .enum(['all', 'errors-and-slow', 'off'], { message: 'expected one of all, errors-and-slow, off' })
    .default('errors-and-slow'),
  SLOW_REQUEST_MS: envInt(250, { min: 0 }),
});

export type BaseServiceConfig = z.output<typeof baseServiceEnv>;
export { z };
