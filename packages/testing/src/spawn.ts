import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';

/**
 * A service of the suite (or any HTTP server script) as a separate Node process, the way production runs
 * it: one process each, started with `node <entry>`, ready once its readiness probe answers 200, stopped
 * with SIGTERM so it drains as it would in a pod. Used by the integration and end-to-end tests, the
 * benchmarks (loadtest/lib/spawn.ts) and the local run command (scripts/dev.ts). Imports nothing but
 * Node, so the run command loads no test dependency through it.
 */

/**
 * The runtime settings each server image sets (its stage's ENV in the Dockerfile; docs/architecture.md):
 * V8's young generation and, where measured to pay, glibc's malloc arena count. The BFF allocates the most
 * per request and keeps a 32 MB semi-space (with 8 or 16 MB in every process, the rough lists' p99 grew);
 * Geo and the ML proxy have 8 MB and two arenas, which cut their resident set after load by about 40 MB
 * each for no change in CPU per request or p99 that interleaved runs could see (docs/benchmarks.md, the
 * section on the coalescing hold and per-service young generations).
 */
export const SERVICE_RUNTIME_ENV: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'vendor-bff': { NODE_OPTIONS: '--max-semi-space-size=32' },
  geo: { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' },
  'ml-proxy': { NODE_OPTIONS: '--max-semi-space-size=8', MALLOC_ARENA_MAX: '2' },
};

/**
 * V8 flags a service's image puts on its `node` command line, before the entry (V8 refuses them in
 * NODE_OPTIONS). The BFF's `--liftoff-only`: embedded PGlite (no DATABASE_URL: the run command and the
 * chart's default) is Postgres compiled to WebAssembly, and V8's optimising tier compiling its hottest
 * functions took a process to ~900 MB resident for a moment while PGlite started, and left it 85-120 MB
 * larger than the baseline tier alone does; the price is PGlite queries ~10-15 % slower, none of them on
 * the precise path (docs/benchmarks.md, "PGlite's WebAssembly on the baseline tier"). Nothing else in the
 * suite is WebAssembly (h3-js is asm.js-style JS).
 */
export const SERVICE_RUNTIME_ARGS: Readonly<Record<string, readonly string[]>> = {
  'vendor-bff': ['--liftoff-only'],
};

/** NODE_OPTIONS of a process that is not one of the services' mains: the BFF's. */
export const SERVICE_NODE_OPTIONS: string = SERVICE_RUNTIME_ENV['vendor-bff']!['NODE_OPTIONS']!;

/**
 * The runtime settings for `node <entry>` run from `cwd`: a service's own when the entry is a service's
 * main (`services/<name>/src/main.ts`), else SERVICE_NODE_OPTIONS. Keys this process sets win, so a
 * caller's NODE_OPTIONS (a profiler's flags) or MALLOC_ARENA_MAX is what the service gets.
 */
export function serviceRuntimeEnv(
  entry: string,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const service = serviceOfMain(entry, cwd);
  const own = (service !== undefined ? SERVICE_RUNTIME_ENV[service] : undefined) ?? {
    NODE_OPTIONS: SERVICE_NODE_OPTIONS,
  };
  return Object.fromEntries(Object.entries(own).map(([key, value]) => [key, env[key] ?? value]));
}

/** The V8 flags for `node <entry>` run from `cwd`: a service's SERVICE_RUNTIME_ARGS when it is a main. */
export function serviceRuntimeArgs(entry: string, cwd: string = process.cwd()): readonly string[] {
  const service = serviceOfMain(entry, cwd);
  return (service !== undefined ? SERVICE_RUNTIME_ARGS[service] : undefined) ?? [];
}

function serviceOfMain(entry: string, cwd: string): string | undefined {
  return /(?:^|\/)services\/([^/]+)\/src\/main\.ts$/.exec(resolve(cwd, entry))?.[1];
}

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** `services/<name>/src/main.ts`, run from the service's own folder as its image runs it. */
export function suiteService(name: string): { name: string; entry: string; cwd: string } {
  return { name, entry: 'src/main.ts', cwd: join(REPO, 'services', name) };
}

export interface SpawnServiceOptions {
  /** Script run as `node <entry>` (relative to `cwd`), e.g. `services/geo/src/main.ts`. */
  readonly entry: string;
  /** Shown in messages; defaults to the entry path. */
  readonly name?: string;
  /** Working directory; default: this process's. */
  readonly cwd?: string;
  /**
   * Added over this process's environment. PORT and HOST are set by this helper unless given here, and
   * NODE_OPTIONS (and MALLOC_ARENA_MAX) are the service's image's (serviceRuntimeEnv) unless this process
   * has its own. A key given as `undefined` is removed: the service does not inherit it.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Port to listen on; default: a free port picked just before the start. */
  readonly port?: number;
  /** Address to listen on (HOST); default 127.0.0.1. The probe goes to 127.0.0.1 for a wildcard. */
  readonly host?: string;
  /** V8 and Node flags before the entry, after the service's own (SERVICE_RUNTIME_ARGS): a profiler's. */
  readonly nodeArgs?: readonly string[];
  /** Polled until it answers 200; default `/readyz`. */
  readonly readyPath?: string;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** How long stop() waits after SIGTERM before SIGKILL; default 15 s. */
  readonly stopTimeoutMs?: number;
  /**
   * `capture` keeps the last 64 KiB of stdout and stderr for output() and error messages (default);
   * `ignore` sends stdout to /dev/null so a chatty logger costs the parent (a load generator) nothing;
   * stderr is still captured.
   */
  readonly stdout?: 'capture' | 'ignore';
  /** Told every line the process writes (stdout unless ignored, and stderr), e.g. to prefix and print it. */
  readonly onLine?: (line: string) => void;
  /** Aborting it while the process is starting stops the process and rejects. */
  readonly signal?: AbortSignal;
  /**
   * Starts the process in a process group (and session) of its own, so signals sent to this process's
   * group (a terminal's Ctrl-C sends SIGINT to the whole foreground group, a closed terminal SIGHUP) do
   * not reach it: only stop()'s SIGTERM does. For a supervisor that stops its services itself
   * (scripts/dev.ts): otherwise each service gets the terminal's SIGINT and then the supervisor's SIGTERM,
   * and a second signal makes the service kit exit at once without draining. This process's exit still
   * kills it (as every spawned service); a SIGKILL of this process does not, as for any child. Default
   * false.
   */
  readonly ownProcessGroup?: boolean;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the process ignored SIGTERM for stopTimeoutMs and had to be killed. */
  readonly killed: boolean;
}

export interface SpawnedService {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The captured tail of the process's output. */
  output(): string;
  /** Resolves when the process has exited, whoever ended it. */
  readonly exited: Promise<ExitStatus>;
  /** SIGTERM, then waits for the exit (SIGKILL after stopTimeoutMs). Safe to call twice. */
  stop(): Promise<ExitStatus>;
}

const OUTPUT_LIMIT = 64 * 1024;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Starts the process and resolves once `GET <readyPath>` answers 200. Rejects, with the process's output,
 * when it exits first, is not ready in time (it is stopped then), or `signal` aborts.
 */
export async function spawnService(opts: SpawnServiceOptions): Promise<SpawnedService> {
  const name = opts.name ?? opts.entry;
  opts.signal?.throwIfAborted();
  const port = opts.port ?? (await freePort());
  const host = opts.host ?? '127.0.0.1';
  const origin = `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${port}`;
  installExitHook();

  const child = spawn(
    process.execPath,
    [...serviceRuntimeArgs(opts.entry, opts.cwd), ...(opts.nodeArgs ?? []), opts.entry],
    {
      cwd: opts.cwd ?? process.cwd(),
      env: {
        ...process.env,
        // Services run with the V8 flags and malloc settings their images set, so what runs here is what
        // is deployed.
        ...serviceRuntimeEnv(opts.entry, opts.cwd),
        PORT: String(port),
        HOST: host,
        ...opts.env,
      },
      stdio: ['ignore', opts.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
      detached: opts.ownProcessGroup === true,
    },
  );
  live.add(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    if (stream === null) continue;
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
    });
    const onLine = opts.onLine;
    if (onLine) createInterface({ input: stream, crlfDelay: Infinity }).on('line', onLine);
  }
  const tail = () => output.slice(-OUTPUT_LIMIT);

  // Set before the SIGKILL, so the exit it causes reports it.
  let killed = false;
  let ended: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = { code, signal };
      live.delete(child);
      resolve({ code, signal, killed });
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let stopping: Promise<ExitStatus> | undefined;
  const stop = (): Promise<ExitStatus> => {
    stopping ??= (async () => {
      if (ended === undefined) {
        child.kill('SIGTERM');
        // Cancelled once the child is gone: a pending timer would keep the caller alive for its length.
        const cancel = new AbortController();
        const timeout = sleep(opts.stopTimeoutMs ?? 15_000, 'timeout' as const, {
          signal: cancel.signal,
        }).catch(() => 'cancelled' as const);
        const first = await Promise.race([exited.then(() => 'exited' as const), timeout]);
        cancel.abort();
        if (first === 'timeout') {
          killed = true;
          child.kill('SIGKILL');
        }
      }
      return exited;
    })();
    return stopping;
  };

  const aborted = new Promise<'aborted'>((resolve) => {
    if (opts.signal?.aborted) resolve('aborted');
    opts.signal?.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const readyPath = opts.readyPath ?? '/readyz';
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let lastProblem = 'no answer yet';
  for (;;) {
    const outcome = await Promise.race([
      probe(origin + readyPath),
      exited.then(() => 'exited' as const),
      spawnError,
      aborted,
    ]);
    if (outcome === 'exited') {
      throw new Error(
        `${name} exited before it was ready (code ${ended?.code ?? 'null'}, signal ${ended?.signal ?? 'null'}); output:\n${tail()}`,
      );
    }
    if (outcome instanceof Error) throw new Error(`${name} could not be started: ${outcome.message}`);
    if (outcome === 'aborted') {
      await stop();
      throw new Error(`${name}: start abandoned`, { cause: opts.signal?.reason });
    }
    if (outcome !== 'ready') {
      lastProblem = outcome;
    } else {
      // Every service answers /readyz: the answer must come from this one, not from another process that
      // holds the port (two starts given one port: the second exits with EADDRINUSE only after loading its
      // modules, long after the probe reached the first). Not ours: wait until it fails or the deadline.
      const own = child.pid === undefined ? undefined : await listenerIsOwn(port, child.pid);
      if (own !== false) break;
      lastProblem = `port ${port} answers, but another process than ${name} (pid ${child.pid}) listens on it`;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} not ready at ${origin}${readyPath} in time (${lastProblem}); output:\n${tail()}`,
      );
    }
    await sleep(100);
  }

  return {
    name,
    pid: child.pid ?? -1,
    port,
    origin,
    output: tail,
    exited,
    stop,
  };
}

/**
 * Whether `pid`, or a process it started, holds the socket listening on TCP `port` (read from Linux's
 * /proc: the listening sockets' inodes, then the processes' descriptors). undefined where /proc cannot
 * tell (another OS, or /proc hidden), and the probe's answer is taken as it is.
 */
async function listenerIsOwn(port: number, pid: number): Promise<boolean | undefined> {
  const tables = await Promise.all(
    ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => readFile(f, 'utf8').catch(() => '')),
  );
  if (tables.every((t) => t === '')) return undefined;
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const inodes = new Set<string>();
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hexPort) && cols[3] === '0A' && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return false;
  const holds = async (p: number): Promise<boolean> => {
    const fds = await readdir(`/proc/${p}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${p}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode !== undefined && inodes.has(inode)) return true;
    }
    return false;
  };
  if (await holds(pid)) return true;
  // Its descendants (a wrapper that forks the server): parent ids from /proc/<pid>/stat.
  const parentOf = new Map<number, number>();
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (Number.isInteger(ppid)) parentOf.set(Number(entry), ppid);
  }
  const descends = (p: number): boolean => {
    for (let q = parentOf.get(p), hops = 0; q !== undefined && hops < 32; q = parentOf.get(q), hops++) {
      if (q === pid) return true;
    }
    return false;
  };
  for (const p of parentOf.keys()) if (descends(p) && (await holds(p))) return true;
  return false;
}

async function probe(url: string): Promise<'ready' | string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.status === 200 ? 'ready' : `HTTP ${res.status}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** A test run or benchmark that dies half way must not leave servers behind holding ports and CPU. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
