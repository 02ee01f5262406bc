import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

/**
 * Toxiproxy (Shopify's TCP proxy for network faults) as a real process of the test's own, and its HTTP
 * API: proxies between the hops of a stand, and toxics (latency, a black hole, resets, a thin pipe, a slow
 * close) added and removed while traffic runs. The binaries come from scripts/faults/toxiproxy.sh (built
 * once per version from the Go module proxy into ~/.cache/eta-suite), or from the folder ETA_TOXIPROXY
 * names. Plain HTTP to the API (fetch), so nothing but Node is loaded.
 *
 *   const tp = await startToxiproxy();
 *   const geo = await tp.createProxy('geo', hostPort(geoUrl));
 *   await geo.addToxic({ type: 'latency', attributes: { latency: 500 } });
 *   ... fetch(throughProxy(geoUrl, geo)) ...
 *   await tp.reset();   // every proxy enabled, every toxic gone
 *   await tp.stop();
 */

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SERVER_BINARY = 'toxiproxy-server';

/** The toxics of Toxiproxy v2.12 and their attributes (times in ms, rates in KB/s). */
export type ToxicSpec = (
  | { readonly type: 'latency'; readonly attributes: { readonly latency: number; readonly jitter?: number } }
  | { readonly type: 'bandwidth'; readonly attributes: { readonly rate: number } }
  | { readonly type: 'slow_close'; readonly attributes: { readonly delay: number } }
  /** Stops all data; closes the connection after `timeout` ms, never when 0 (a black hole). */
  | { readonly type: 'timeout'; readonly attributes: { readonly timeout: number } }
  /** Resets the connection (RST) once data arrives, after `timeout` ms. */
  | { readonly type: 'reset_peer'; readonly attributes: { readonly timeout: number } }
  | {
      readonly type: 'slicer';
      readonly attributes: {
        readonly average_size: number;
        readonly size_variation?: number;
        readonly delay?: number;
      };
    }
  | { readonly type: 'limit_data'; readonly attributes: { readonly bytes: number } }
) & {
  /** Default: `<type>_<stream>`, as Toxiproxy names it. */
  readonly name?: string;
  /** `downstream` (server to client, the default) or `upstream` (client to server). */
  readonly stream?: 'upstream' | 'downstream';
  /** Share of connections it applies to, 0..1; default 1. */
  readonly toxicity?: number;
};

export interface ToxicInfo {
  readonly name: string;
  readonly type: string;
  readonly stream: string;
  readonly toxicity: number;
  readonly attributes: Readonly<Record<string, number>>;
}

export interface ToxicProxy {
  readonly name: string;
  /** `127.0.0.1:<port>`: point the client here. */
  readonly listen: string;
  readonly port: number;
  /** `host:port` it forwards to. */
  readonly upstream: string;
  /** Adds a toxic; resolves with its name (for removeToxic). */
  addToxic(toxic: ToxicSpec): Promise<string>;
  removeToxic(name: string): Promise<void>;
  toxics(): Promise<readonly ToxicInfo[]>;
  /** `down`: the listener closes and every open connection is dropped; new ones are refused. */
  disable(): Promise<void>;
  enable(): Promise<void>;
  /** Client connections this proxy accepted so far (counted from the server's log). */
  connections(): number;
  /** Bytes the proxy received from its clients (`upstream`) and from the server (`downstream`) so far. */
  bytes(): Promise<{ readonly upstream: number; readonly downstream: number }>;
}

export interface ToxiproxyServer {
  /** `http://127.0.0.1:<port>`: the API. */
  readonly api: string;
  readonly pid: number;
  /** The binaries' folder. */
  readonly binDir: string;
  /** A proxy listening on a free port of 127.0.0.1 (or `listenPort`), forwarding to `upstream` (`host:port`). */
  createProxy(name: string, upstream: string, opts?: { readonly listenPort?: number }): Promise<ToxicProxy>;
  /** Every proxy enabled again and every toxic removed (Toxiproxy's POST /reset). */
  reset(): Promise<void>;
  /** The last 64 KiB of the server's output. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartToxiproxyOptions {
  /** Folder holding toxiproxy-server; default ETA_TOXIPROXY, else what scripts/faults/toxiproxy.sh prints. */
  readonly binDir?: string;
  /** Toxiproxy's LOG_LEVEL; `info` (the default) logs each accepted connection, which connections() counts. */
  readonly logLevel?: 'info' | 'warn' | 'error';
}

let building: Promise<string> | undefined;

/**
 * The folder of the Toxiproxy binaries: ETA_TOXIPROXY when set, else scripts/faults/toxiproxy.sh builds
 * them once per version (about 1.5 min the first time on two cores; it holds a lock, so parallel test
 * files wait for one build) and prints the folder.
 */
export function toxiproxyBinDir(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const given = env['ETA_TOXIPROXY'];
  if (given !== undefined && given !== '') {
    if (!existsSync(join(given, SERVER_BINARY))) {
      return Promise.reject(new Error(`ETA_TOXIPROXY=${given} holds no ${SERVER_BINARY}`));
    }
    return Promise.resolve(given);
  }
  building ??= run(join(REPO, 'scripts', 'faults', 'toxiproxy.sh'), [], { maxBuffer: 1 << 20 }).then(
    ({ stdout }) => stdout.trim().split('\n').at(-1) ?? '',
    (err: unknown) => {
      building = undefined;
      const e = err as { stderr?: string; message?: string };
      throw new Error(`scripts/faults/toxiproxy.sh failed: ${e.stderr ?? e.message ?? String(err)}`);
    },
  );
  return building;
}

/** `host:port` of a URL (`redis://...`, `postgres://user:pw@host:port/db`), for createProxy's upstream. */
export function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port !== '' ? u.port : { 'http:': '80', 'redis:': '6379', 'postgres:': '5432' }[u.protocol];
  if (port === undefined) throw new Error(`no port in ${url}`);
  return `${u.hostname}:${port}`;
}

/** The same URL (credentials, path and query kept) with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: Pick<ToxicProxy, 'port'>): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}

const OUTPUT_LIMIT = 64 * 1024;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts a private toxiproxy-server on a free port; resolves once its API answers. */
export async function startToxiproxy(opts: StartToxiproxyOptions = {}): Promise<ToxiproxyServer> {
  const binDir = opts.binDir ?? (await toxiproxyBinDir());
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test run that dies half way must not leave proxies behind holding ports.
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = spawn(
    join(binDir, SERVER_BINARY),
    ['-host', '127.0.0.1', '-port', String(port), '-proxy-metrics'],
    {
      env: { ...process.env, LOG_LEVEL: opts.logLevel ?? 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  live.add(child);
  let output = '';
  const accepted = new Map<string, number>();
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
    });
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.includes('"Accepted client"')) return;
      try {
        const entry = JSON.parse(line) as { name?: string };
        if (entry.name !== undefined) accepted.set(entry.name, (accepted.get(entry.name) ?? 0) + 1);
      } catch {
        // Not a log line of the proxy's; nothing to count.
      }
    });
  }
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      live.delete(child);
      resolve();
    });
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(api + path, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    const outcome = await Promise.race([
      fetch(`${api}/version`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => (r.ok ? 'ready' : `HTTP ${r.status}`),
        (err: unknown) => String(err),
      ),
      exited.then(() => 'exited' as const),
      spawnError,
    ]);
    if (outcome === 'ready') break;
    if (outcome instanceof Error)
      throw new Error(`toxiproxy-server could not be started: ${outcome.message}`);
    if (outcome === 'exited') throw new Error(`toxiproxy-server exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`toxiproxy-server not ready at ${api} (${outcome}):\n${output}`);
    }
    await sleep(50);
  }

  const metricsText = async (): Promise<string> => {
    const res = await fetch(`${api}/metrics`, { signal: AbortSignal.timeout(10_000) });
    return res.text();
  };

  let stopping: Promise<void> | undefined;
  return {
    api,
    pid: child.pid ?? -1,
    binDir,
    output: () => output.slice(-OUTPUT_LIMIT),
    reset: async () => {
      await call('POST', '/reset');
    },
    async createProxy(name, upstream, proxyOpts = {}) {
      const listenPort = proxyOpts.listenPort ?? (await freePort());
      const listen = `127.0.0.1:${listenPort}`;
      await call('POST', '/proxies', { name, listen, upstream, enabled: true });
      const path = `/proxies/${encodeURIComponent(name)}`;
      return {
        name,
        listen,
        port: listenPort,
        upstream,
        async addToxic(toxic) {
          const created = (await call('POST', `${path}/toxics`, {
            type: toxic.type,
            stream: toxic.stream ?? 'downstream',
            toxicity: toxic.toxicity ?? 1,
            attributes: toxic.attributes,
            ...(toxic.name !== undefined ? { name: toxic.name } : {}),
          })) as { name: string };
          return created.name;
        },
        removeToxic: async (toxic) => {
          await call('DELETE', `${path}/toxics/${encodeURIComponent(toxic)}`);
        },
        toxics: async () => (await call('GET', `${path}/toxics`)) as ToxicInfo[],
        disable: async () => {
          await call('POST', path, { enabled: false });
        },
        enable: async () => {
          await call('POST', path, { enabled: true });
        },
        connections: () => accepted.get(name) ?? 0,
        async bytes() {
          const text = await metricsText();
          const read = (direction: string): number => {
            let sum = 0;
            for (const m of text.matchAll(/^toxiproxy_proxy_received_bytes_total\{([^}]*)\} (\S+)$/gm)) {
              const labels = m[1]!;
              if (labels.includes(`proxy="${name}"`) && labels.includes(`direction="${direction}"`)) {
                sum += Number(m[2]);
              }
            }
            return sum;
          };
          return { upstream: read('upstream'), downstream: read('downstream') };
        },
      };
    },
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
