/**
 * One role under test as one process, started as the run command starts it (scripts/suite.ts:
 * runCommandEnv, the images' Node flags) with only ROLE changed for a BFF role (the chart runs each role as
 * its own Deployment; the run command's ROLE=all serves every route in one process). A BFF role's
 * dependencies, Geo and the ML proxy, run as separate processes with the run command's configuration too;
 * they only have to keep up, and their CPU is reported beside the role's so a reader can see that they did.
 * The role's start is timed from spawn to its first 200 on /readyz (polled every 100 ms).
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCommandEnv, type SuitePorts, type SuiteService } from '../../../scripts/suite.ts';
import { freePort, spawnService, type SpawnedService } from '../spawn.ts';
import type { CapacityRole } from './options.ts';

export interface RoleProcesses {
  readonly role: SpawnedService;
  /** Geo and the ML proxy for a BFF role, by name; none otherwise. */
  readonly deps: Readonly<Record<string, SpawnedService>>;
  /** Spawn to ready of the role's process. */
  readonly startMs: number;
  /** The role's environment beyond the run command's (ROLE for the BFF roles). */
  readonly roleEnv: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export function serviceOf(role: CapacityRole): SuiteService {
  return role === 'geo' ? 'geo' : role === 'ml-proxy' ? 'ml-proxy' : 'vendor-bff';
}

/** What the role's process gets over the run command's keys. */
export function roleEnvOf(role: CapacityRole): Record<string, string> {
  return serviceOf(role) === 'vendor-bff' ? { ROLE: role } : {};
}

export async function startRole(root: string, role: CapacityRole): Promise<RoleProcesses> {
  const ports: SuitePorts = {
    geo: await freePort(),
    'ml-proxy': await freePort(),
    'vendor-bff': await freePort(),
  };
  const started: SpawnedService[] = [];
  const stop = async () => {
    for (const svc of [...started].reverse()) {
      const status = await svc.stop();
      if (status.code !== 0) process.stderr.write(`${svc.name} exited with ${JSON.stringify(status)}\n`);
    }
  };
  const spawnOne = async (name: SuiteService, extra: Record<string, string> = {}) => {
    const svc = await spawnService({
      entry: 'src/main.ts',
      cwd: join(root, 'services', name),
      name,
      port: ports[name],
      env: { ...runCommandEnv(name, ports), ...extra },
      stdout: 'ignore',
      readyTimeoutMs: 120_000,
    });
    started.push(svc);
    return svc;
  };
  try {
    const service = serviceOf(role);
    const deps: Record<string, SpawnedService> = {};
    if (service === 'vendor-bff') {
      const [geo, ml] = await Promise.all([spawnOne('geo'), spawnOne('ml-proxy')]);
      deps.geo = geo;
      deps['ml-proxy'] = ml;
    }
    const roleEnv = roleEnvOf(role);
    const t0 = performance.now();
    const svc = await spawnOne(service, roleEnv);
    const startMs = Math.round(performance.now() - t0);
    return { role: svc, deps, startMs, roleEnv, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Resolves to the exit status if the process has exited, else null (without waiting). */
export async function exitedYet(svc: SpawnedService): Promise<string | null> {
  const status = await Promise.race([svc.exited, new Promise<null>((r) => setImmediate(() => r(null)))]);
  return status === null ? null : `code ${status.code ?? 'null'}, signal ${status.signal ?? 'null'}`;
}
