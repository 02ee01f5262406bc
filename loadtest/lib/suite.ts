/**
 * The suite as the README's run command starts it (scripts/suite.ts), for the benchmarks: the same
 * services, environment and Node flags, and the credential the README hands a calling service
 * (`pnpm -s dev:token --service ...`, a JWT signed with the development key). A benchmark that needs
 * anything else says so in its header: `suiteOverrides()` lists every service key set in the environment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommandEnv, SUITE_ORDER, type SuitePorts, type SuiteService } from '../../scripts/suite.ts';
import { freePort, spawnService, type SpawnedService } from './spawn.ts';

export interface Suite {
  readonly geo: SpawnedService;
  readonly ml: SpawnedService;
  readonly bff: SpawnedService;
  /** SIGTERM to each, the BFF first; reports a non-zero exit on stderr. */
  stop(): Promise<void>;
}

export interface StartSuiteOptions {
  readonly root: string;
  /** Added over the run command's keys, per service: only for what a scenario states in its header. */
  readonly extraEnv?: Partial<Record<SuiteService, Readonly<Record<string, string>>>>;
  /** NODE_OPTIONS per service instead of the images' (a profiler's flags, say). */
  readonly nodeOptions?: (name: SuiteService) => string;
}

/**
 * Whose services a benchmark starts: this checkout, or BENCH_SUITE_ROOT (another checkout, for a
 * before/after comparison on the same harness and machine).
 */
export function suiteRoot(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const other = env.BENCH_SUITE_ROOT;
  return other === undefined || other === '' ? root : other;
}

/** The keys of a zod object schema, through the pipes and wrappers a service's config schema adds. */
function schemaKeys(schema: unknown): string[] {
  const s = schema as { shape?: object; _zod?: { def?: Record<string, unknown> } } | undefined;
  if (s?.shape !== undefined) return Object.keys(s.shape);
  const def = s?._zod?.def;
  if (def === undefined) return [];
  return schemaKeys(def['in'] ?? def['innerType'] ?? def['schema']);
}

/**
 * Every key the services' config schemas read (this checkout's): a key missing from .env.example still
 * makes a run "not as shipped" when it is set.
 */
const SCHEMA_KEYS: readonly string[] = (
  await Promise.all(
    SUITE_ORDER.map(async (name) => {
      const url = new URL(`../../services/${name}/src/config.ts`, import.meta.url).href;
      const mod = (await import(url)) as { configSchema?: unknown };
      const keys = schemaKeys(mod.configSchema);
      if (keys.length === 0) throw new Error(`no config keys read from ${url}`);
      return keys;
    }),
  )
).flat();

/**
 * Whether a service's output line is told with its non-zero exit: its error and fatal log lines (pino
 * levels 50 and 60), and every non-empty line that is not JSON, which the services never write themselves:
 * Node's, V8's or a native library's words on stderr before an abort.
 */
export function worthTellingAtExit(line: string): boolean {
  if (line.startsWith('{')) return line.includes('"level":50') || line.includes('"level":60');
  return line.trim() !== '';
}

/** Starts geo, ml-proxy and vendor-bff (ROLE=all) on free ports with the run command's configuration. */
export async function startSuite(opts: StartSuiteOptions): Promise<Suite> {
  const ports: SuitePorts = {
    geo: await freePort(),
    'ml-proxy': await freePort(),
    'vendor-bff': await freePort(),
  };
  const started = new Map<SuiteService, SpawnedService>();
  // Each service's last error and fatal log lines, and any line that is not JSON (what Node, V8 or a native
  // library writes to stderr when the process aborts), told with a non-zero exit (its log is not kept).
  const errors = new Map<SuiteService, string[]>(SUITE_ORDER.map((name) => [name, []]));
  const stop = async () => {
    for (const name of [...SUITE_ORDER].reverse()) {
      const svc = started.get(name);
      if (svc === undefined) continue;
      const status = await svc.stop();
      if (status.code === 0) continue;
      const lines = errors.get(name)!;
      process.stderr.write(
        `${name} exited with ${JSON.stringify(status)}` +
          (lines.length > 0
            ? `; its last error lines:\n${lines.join('\n')}\n`
            : '; no error line logged and nothing else written\n'),
      );
    }
  };
  try {
    const spawnOne = (name: SuiteService) =>
      spawnService({
        entry: 'src/main.ts',
        cwd: join(opts.root, 'services', name),
        name,
        port: ports[name],
        env: {
          ...runCommandEnv(name, ports),
          ...(opts.nodeOptions !== undefined ? { NODE_OPTIONS: opts.nodeOptions(name) } : {}),
          ...opts.extraEnv?.[name],
        },
        // Read, not kept: at info level with errors-and-slow access logs a service writes little, except
        // under overload.
        onLine: (line) => {
          if (!worthTellingAtExit(line)) return;
          const lines = errors.get(name)!;
          lines.push(line.length > 1_000 ? `${line.slice(0, 1_000)}...` : line);
          if (lines.length > 10) lines.shift();
        },
        readyTimeoutMs: 120_000,
      }).then((svc) => started.set(name, svc));
    await Promise.all([spawnOne('geo'), spawnOne('ml-proxy')]);
    await spawnOne('vendor-bff');
  } catch (err) {
    await stop();
    throw err;
  }
  return { geo: started.get('geo')!, ml: started.get('ml-proxy')!, bff: started.get('vendor-bff')!, stop };
}

/** A calling service's credential exactly as the README makes one: `pnpm -s dev:token --service <name>`. */
export function devServiceToken(root: string, service: string): string {
  return execFileSync(
    process.execPath,
    [join(root, 'services', 'vendor-bff', 'src', 'cli', 'dev-token.ts'), '--service', service],
    { encoding: 'utf8' },
  ).trim();
}

/**
 * Service configuration keys (those of the services' config schemas and of .env.example) set in this
 * environment: they reach the services as they would reach the run command's, and make a run something
 * other than "as shipped".
 */
export function suiteOverrides(root: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keys = new Set([
    ...SCHEMA_KEYS,
    ...[...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map(
      (m) => m[1]!,
    ),
  ]);
  const out: Record<string, string> = {};
  for (const k of [...keys].sort()) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
