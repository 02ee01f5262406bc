import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
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

/** The V8 flags the service images set (NODE_OPTIONS in the Dockerfile's server images; docs/architecture.md). */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=32';

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
   * NODE_OPTIONS is the images' (SERVICE_NODE_OPTIONS) unless this process has its own. A key given as
   * `undefined` is removed: the service does not inherit it.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Port to listen on; default: a free port picked just before the start. */
  readonly port?: number;
  /** Address to listen on (HOST); default 127.0.0.1. The probe goes to 127.0.0.1 for a wildcard. */
  readonly host?: string;
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

  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.entry], {
    cwd: opts.cwd ?? process.cwd(),
    env: {
      ...process.env,
      // Services run with the V8 flags their images set, so what runs here is what is deployed.
      NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? SERVICE_NODE_OPTIONS,
      PORT: String(port),
      HOST: host,
      ...opts.env,
    },
    stdio: ['ignore', opts.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
  });
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
    if (outcome === 'ready') break;
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
    lastProblem = outcome;
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
