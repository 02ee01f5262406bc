/**
 * The suite as the run command starts it (scripts/suite.ts: the same services, keys and Node flags), with
 * a Toxiproxy (@eta/testing/toxiproxy) on every hop the BFF makes, for the faults soak
 * (scenarios/faults.bench.ts): Geo and the ML proxy always; Redis and Postgres when REDIS_URL and
 * DATABASE_URL name servers to use (then the BFF's caches get an L2 through the Redis proxy, and its
 * stores live in a fresh Postgres schema, seeded by the BFF's own seed command, behind the Postgres
 * proxy). Without them the BFF runs as shipped on embedded PGlite and L1 caches, and those hops are not
 * there to break. The toxics are the ones the fault tests use (services/vendor-bff/test/faults).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestSchema, type TestSchema } from '@eta/testing';
import {
  hostPort,
  startToxiproxy,
  throughProxy,
  type ToxicProxy,
  type ToxicSpec,
  type ToxiproxyServer,
} from '@eta/testing/toxiproxy';
import { runCommandEnv, type SuitePorts } from '../../scripts/suite.ts';
import { freePort, spawnService, type SpawnedService } from './spawn.ts';

const run = promisify(execFile);

export type FaultHop = 'geo' | 'ml-proxy' | 'redis' | 'postgres';

/** One fault: a toxic on the hop's proxy, or the proxy disabled (`down`). */
export interface Fault {
  readonly name: string;
  /** Undefined: the proxy is disabled (connections refused, open ones dropped). */
  readonly toxics?: readonly ToxicSpec[];
}

/** The faults the soak draws from, each applied to both directions where it has one. */
export const FAULTS: readonly Fault[] = [
  { name: 'latency-1s', toxics: [{ type: 'latency', attributes: { latency: 1_000 } }] },
  { name: 'latency-40ms', toxics: [{ type: 'latency', attributes: { latency: 40, jitter: 30 } }] },
  { name: 'black-hole', toxics: [{ type: 'timeout', attributes: { timeout: 0 } }] },
  { name: 'reset-peer', toxics: [{ type: 'reset_peer', attributes: { timeout: 0 }, stream: 'upstream' }] },
  { name: 'down' },
  {
    name: 'bandwidth-1KBps',
    toxics: [
      { type: 'bandwidth', attributes: { rate: 1 } },
      { type: 'bandwidth', attributes: { rate: 1 }, stream: 'upstream' },
    ],
  },
  {
    name: 'slow-close-3s',
    toxics: [
      { type: 'slow_close', attributes: { delay: 3_000 } },
      { type: 'slow_close', attributes: { delay: 3_000 }, stream: 'upstream' },
    ],
  },
];

export interface FaultSuite {
  readonly geo: SpawnedService;
  readonly ml: SpawnedService;
  readonly bff: SpawnedService;
  readonly tp: ToxiproxyServer;
  readonly hops: Readonly<Partial<Record<FaultHop, ToxicProxy>>>;
  /** The BFF's keys beyond the run command's (the proxies' URLs, the schema, the key prefix). */
  readonly bffEnv: Readonly<Record<string, string>>;
  /** Applies `fault` on `hop`; resolves with the function that removes it. */
  apply(hop: FaultHop, fault: Fault): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

export interface StartFaultSuiteOptions {
  readonly root: string;
  /** Put Redis behind a proxy and give the BFF an L2 there. Default: REDIS_URL. */
  readonly redisUrl?: string | undefined;
  /** Put Postgres behind a proxy, in a schema of its own. Default: DATABASE_URL. */
  readonly databaseUrl?: string | undefined;
  /** Seeded stores (Postgres only; PGlite seeds the run command's 5,000). Default 5,000. */
  readonly stores?: number;
  /** More BFF keys (stated by the caller). */
  readonly bffEnv?: Readonly<Record<string, string>>;
}

export async function startFaultSuite(opts: StartFaultSuiteOptions): Promise<FaultSuite> {
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
  const databaseUrl = opts.databaseUrl ?? process.env.DATABASE_URL;
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const tp = await startToxiproxy();
    cleanups.push(() => tp.stop());
    const ports: SuitePorts = {
      geo: await freePort(),
      'ml-proxy': await freePort(),
      'vendor-bff': await freePort(),
    };
    const spawnOne = (name: keyof SuitePorts, extra: Record<string, string | undefined>) =>
      spawnService({
        entry: 'src/main.ts',
        cwd: join(opts.root, 'services', name),
        name,
        port: ports[name],
        env: { ...runCommandEnv(name, ports), ...extra },
        stdout: 'ignore',
        readyTimeoutMs: 120_000,
      });
    const [geo, ml] = await Promise.all([spawnOne('geo', {}), spawnOne('ml-proxy', {})]);
    cleanups.push(
      () => geo.stop(),
      () => ml.stop(),
    );

    const hops: Partial<Record<FaultHop, ToxicProxy>> = {
      geo: await tp.createProxy('geo', hostPort(geo.origin)),
      'ml-proxy': await tp.createProxy('ml-proxy', hostPort(ml.origin)),
    };
    const bffEnv: Record<string, string> = {
      GEO_URL: `http://${hops.geo!.listen}`,
      ML_PROXY_URL: `http://${hops['ml-proxy']!.listen}`,
    };
    const unset: Record<string, undefined> = {};
    if (redisUrl !== undefined && redisUrl !== '') {
      hops.redis = await tp.createProxy('redis', hostPort(redisUrl));
      bffEnv.REDIS_URL = throughProxy(redisUrl, hops.redis);
      bffEnv.CACHE_KEY_PREFIX = `faults-${process.pid}-${Date.now()}:`;
    } else unset.REDIS_URL = undefined;
    if (databaseUrl !== undefined && databaseUrl !== '') {
      const s: TestSchema = await createTestSchema({ prefix: 'faults_soak', databaseUrl, max: 1 });
      cleanups.push(() => s.cleanup());
      const url = new URL(databaseUrl);
      url.searchParams.set('options', `-c search_path=${s.schema}`);
      // The BFF's own seed command (migrations first), as an operator seeds a database.
      await run(
        process.execPath,
        [join(opts.root, 'services/vendor-bff/src/cli/seed.ts'), '--count', String(opts.stores ?? 5_000)],
        {
          cwd: join(opts.root, 'services/vendor-bff'),
          env: { ...process.env, DATABASE_URL: url.toString() },
        },
      );
      hops.postgres = await tp.createProxy('postgres', hostPort(databaseUrl));
      const proxied = new URL(throughProxy(databaseUrl, hops.postgres));
      proxied.searchParams.set('options', `-c search_path=${s.schema}`);
      bffEnv.DATABASE_URL = proxied.toString();
    } else unset.DATABASE_URL = undefined;

    Object.assign(bffEnv, opts.bffEnv);
    const bff = await spawnOne('vendor-bff', { ...bffEnv, ...unset });
    cleanups.push(() => bff.stop());

    return {
      geo,
      ml,
      bff,
      tp,
      hops,
      bffEnv,
      async apply(hop, fault) {
        const proxy = hops[hop];
        if (proxy === undefined) throw new Error(`no ${hop} hop in this suite`);
        if (fault.toxics === undefined) {
          await proxy.disable();
          return () => proxy.enable();
        }
        const names: string[] = [];
        for (const t of fault.toxics) names.push(await proxy.addToxic(t));
        return async () => {
          for (const n of names) await proxy.removeToxic(n);
        };
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
