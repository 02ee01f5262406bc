/**
 * The capacity file: per role, the requests per second one pod serves at its p99 SLO (the meal-peak
 * benchmark measures and writes it). Format: capacity.schema.json next to this file (JSON Schema 2020-12);
 * parseCapacity checks the same rules and names every bad field at once. Example:
 * services/prescaler/test/learn/fixtures/capacity.json.
 */
import { InputError, isTarget, type TargetId, TARGETS } from './targets.ts';

export interface RoleCapacity {
  /** Requests per second one pod serves while its p99 latency is within the SLO. */
  readonly rpsPerPod: number;
  readonly sloP99Ms?: number;
  /** Bound to a node -> Ready (image pull, start, warm-up), seconds. */
  readonly podStartSeconds?: number;
  /** CPU use at rpsPerPod in % of the pod's CPU request (what the HPA's utilization sees). Default 100. */
  readonly cpuAtCapacityPercent: number;
  /** The most CPU, in % of request, a pod can use whatever is offered. Default max(100, cpuAtCapacityPercent). */
  readonly maxCpuPercent: number;
}

export interface Capacity {
  readonly version: 1;
  readonly measuredAt?: string;
  readonly source?: string;
  readonly roles: Partial<Record<TargetId, RoleCapacity>>;
}

const ROLE_KEYS = [
  'rpsPerPod',
  'sloP99Ms',
  'podStartSeconds',
  'cpuAtCapacityPercent',
  'maxCpuPercent',
  'meta',
];
const TOP_KEYS = ['$schema', 'version', 'measuredAt', 'source', 'meta', 'roles'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseCapacity(text: string): Capacity {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`capacity file is not JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  if (!isObject(doc)) throw new InputError('capacity file: expected an object with "version" and "roles"');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.includes(k)) problems.push(`${k}: unknown key`);
  if (doc.version !== 1) problems.push(`version: expected 1, found ${JSON.stringify(doc.version)}`);
  for (const k of ['measuredAt', 'source'] as const) {
    if (doc[k] !== undefined && typeof doc[k] !== 'string') problems.push(`${k}: expected a string`);
  }
  if (doc.meta !== undefined && !isObject(doc.meta)) problems.push('meta: expected an object');
  const roles: Partial<Record<TargetId, RoleCapacity>> = {};
  if (!isObject(doc.roles) || Object.keys(doc.roles).length === 0) {
    problems.push('roles: expected an object with at least one role');
  } else {
    for (const [id, v] of Object.entries(doc.roles)) {
      const at = `roles.${id}`;
      if (!isTarget(id)) {
        problems.push(`${at}: not a target (${TARGETS.join(', ')})`);
        continue;
      }
      if (!isObject(v)) {
        problems.push(`${at}: expected an object with rpsPerPod`);
        continue;
      }
      for (const k of Object.keys(v)) if (!ROLE_KEYS.includes(k)) problems.push(`${at}.${k}: unknown key`);
      const num = (
        k: string,
        ok: (n: number) => boolean,
        rule: string,
        required = false,
      ): number | undefined => {
        const x = v[k];
        if (x === undefined) {
          if (required) problems.push(`${at}.${k}: required (${rule})`);
          return undefined;
        }
        if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) {
          problems.push(`${at}.${k}: expected ${rule}, found ${JSON.stringify(x)}`);
          return undefined;
        }
        return x;
      };
      const rps = num('rpsPerPod', (n) => n > 0, 'a number > 0', true);
      const slo = num('sloP99Ms', (n) => n > 0, 'a number > 0');
      const start = num('podStartSeconds', (n) => n >= 0 && n <= 3600, 'seconds, 0..3600');
      const cpu = num('cpuAtCapacityPercent', (n) => n > 0 && n <= 1000, 'a percentage, > 0 and <= 1000');
      const maxCpu = num('maxCpuPercent', (n) => n > 0 && n <= 1000, 'a percentage, > 0 and <= 1000');
      if (v.meta !== undefined && !isObject(v.meta)) problems.push(`${at}.meta: expected an object`);
      const cpuAt = cpu ?? 100;
      const ceiling = maxCpu ?? Math.max(100, cpuAt);
      if (ceiling < cpuAt) {
        problems.push(`${at}.maxCpuPercent: ${ceiling} is below cpuAtCapacityPercent ${cpuAt}`);
      }
      if (rps !== undefined) {
        roles[id] = {
          rpsPerPod: rps,
          ...(slo !== undefined && { sloP99Ms: slo }),
          ...(start !== undefined && { podStartSeconds: start }),
          cpuAtCapacityPercent: cpuAt,
          maxCpuPercent: ceiling,
        };
      }
    }
  }
  if (problems.length > 0) throw new InputError(`capacity file:\n  ${problems.join('\n  ')}`);
  return {
    version: 1,
    ...(typeof doc.measuredAt === 'string' && { measuredAt: doc.measuredAt }),
    ...(typeof doc.source === 'string' && { source: doc.source }),
    roles,
  };
}
