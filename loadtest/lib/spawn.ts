import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { freePort } from '@eta/testing/ports';

export { freePort };

export interface SpawnServiceOptions {
  /** Script run as `node <entry>`, e.g. `services/geo/src/main.ts`. */
  readonly entry: string;
  /** Shown in messages; defaults to the entry path. */
  readonly name?: string;
  /** Added over the parent's environment; PORT and HOST are set by this helper unless given here. */
  readonly env?: Readonly<Record<string, string>>;
  /** Port to listen on; default: a free port picked just before the start. */
  readonly port?: number;
  readonly cwd?: string;
  readonly nodeArgs?: readonly string[];
  readonly readyPath?: string;
  readonly readyTimeoutMs?: number;
  readonly stopTimeoutMs?: number;
  /**
   * `capture` keeps the last 64 KiB of stdout and stderr for error messages (default); `ignore`
   * sends stdout to /dev/null so a chatty logger does not cost the load generator's process
   * anything (stderr is still captured).
   */
  readonly stdout?: 'capture' | 'ignore';
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
  /** SIGTERM, then waits for the exit (SIGKILL after stopTimeoutMs). Safe to call twice. */
  stop(): Promise<ExitStatus>;
}

const OUTPUT_LIMIT = 64 * 1024;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** The V8 flags the service images set (NODE_OPTIONS in each service Dockerfile; docs/architecture.md). */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=32';

/**
 * Starts a service as a separate Node process, so the load generator never shares an event loop
 * with the code it measures, and resolves once `GET <readyPath>` answers 200. Rejects, with the
 * process's output, when it exits or is not ready in time.
 */
export async function spawnService(opts: SpawnServiceOptions): Promise<SpawnedService> {
  const name = opts.name ?? opts.entry;
  const port = opts.port ?? (await freePort());
  const host = '127.0.0.1';
  const origin = `http://${host}:${port}`;
  installExitHook();

  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.entry], {
    cwd: opts.cwd ?? process.cwd(),
    env: {
      ...process.env,
      // Services run with the V8 flags their images set, so benchmarks measure what is deployed.
      NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? SERVICE_NODE_OPTIONS,
      PORT: String(port),
      HOST: host,
      ...opts.env,
    },
    stdio: ['ignore', opts.stdout === 'ignore' ? 'ignore' : 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const tail = () => output.slice(-OUTPUT_LIMIT);

  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitStatus = { code, signal };
      live.delete(child);
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  let killed = false;
  const stop = async (): Promise<ExitStatus> => {
    if (exitStatus === null) {
      child.kill('SIGTERM');
      // Cancelled once the child is gone: a pending timer would keep the caller alive for its full length.
      const cancel = new AbortController();
      const timeout = sleep(opts.stopTimeoutMs ?? 15_000, 'timeout' as const, {
        signal: cancel.signal,
      }).catch(() => 'cancelled' as const);
      const first = await Promise.race([exited.then(() => 'exited' as const), timeout]);
      cancel.abort();
      if (first === 'timeout') {
        killed = true;
        child.kill('SIGKILL');
        await exited;
      }
    }
    const status = exitStatus as { code: number | null; signal: NodeJS.Signals | null } | null;
    return { code: status?.code ?? null, signal: status?.signal ?? null, killed };
  };

  const readyPath = opts.readyPath ?? '/readyz';
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  let lastProblem = 'no answer yet';
  for (;;) {
    const outcome = await Promise.race([
      probe(origin + readyPath),
      exited.then(() => 'exited' as const),
      spawnError,
    ]);
    if (outcome === 'ready') break;
    if (outcome === 'exited') {
      const s = exitStatus as { code: number | null; signal: NodeJS.Signals | null } | null;
      throw new Error(
        `${name} exited before it was ready (code ${s?.code ?? 'null'}, signal ${s?.signal ?? 'null'}); output:\n${tail()}`,
      );
    }
    if (outcome instanceof Error) throw new Error(`${name} could not be started: ${outcome.message}`);
    lastProblem = outcome;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `${name} not ready at ${origin}${readyPath} in time (${lastProblem}); output:\n${tail()}`,
      );
    }
    await sleep(100);
  }

  return { name, pid: child.pid ?? -1, port, origin, output: tail, stop };
}

async function probe(url: string): Promise<'ready' | string> {
  try {
    const res = await request(url, { headersTimeout: 1000, bodyTimeout: 1000 });
    await res.body.dump();
    return res.statusCode === 200 ? 'ready' : `HTTP ${res.statusCode}`;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** A benchmark that dies half way must not leave servers behind holding ports and CPU. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
