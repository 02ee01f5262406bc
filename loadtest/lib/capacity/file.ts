/**
 * The capacity file (services/prescaler/src/learn/capacity.schema.json) from the searches: per role the
 * conservative capacity (the cold-cache one for the BFF's estimate roles), the SLO it was measured at, the
 * pod start, and the CPU at capacity in % of the chart's CPU request (the unit the HPA and the simulator
 * use). Everything else (CPU in % of one core, CPU per request, hit ratios, the warm-cache capacity and its
 * ratio to the cold one, the machine, the SLOs, each search's bracket) goes in the schema's free-form `meta`.
 */
import type { MachineInfo } from '../machine.ts';
import { generatorOnly } from './judge.ts';
import type { TierRatio } from '../meal-peak/metrics.ts';
import { TARGET_OF, type CacheCase, type CapacityRole, type RoleSlo } from './options.ts';
import type { SearchResult } from './search.ts';

/** One step's figures (the search keeps them with its verdict). */
export interface StepFigures {
  readonly offeredRate: number;
  readonly achievedRate: number;
  readonly scheduled: number;
  readonly ok: number;
  readonly errors: number;
  readonly errorsByKind: Readonly<Record<string, number>>;
  /** The first message per error kind (a degraded answer's body, a 503), cut to 300 characters. */
  readonly errorSamples: Readonly<Record<string, string>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly lagP99Ms: number;
  /** The role's CPU time over the step (warm-up and window) per request offered in it, µs. */
  readonly cpuUsPerRequest: number;
  /** The role's CPU over the step's load period, in cores (1 = one core busy). */
  readonly cpuCores: number;
  /** The busiest second of the step, in cores. */
  readonly peakCores: number;
  /** The dependencies' CPU over the step, cores (a BFF role's Geo and ML proxy). */
  readonly depCores: Readonly<Record<string, number>>;
  readonly rssMb: number | null;
  /** The BFF's cache hit ratios over the step, by `<cache>/<tier>`; null for Geo and the ML proxy. */
  readonly hitRatios: Readonly<Record<string, TierRatio>> | null;
}

export interface RoleMeasurement {
  readonly role: CapacityRole;
  /** The BFF's estimate roles: which cache case; null for the others. */
  readonly cache: CacheCase | null;
  readonly describe: string;
  readonly roleEnv: Readonly<Record<string, string>>;
  readonly requestMilli: number;
  readonly slo: RoleSlo;
  readonly podStartMs: number;
  readonly search: SearchResult<StepFigures>;
  /** Resident set of the role's process after the search's last step, and its peak since start. */
  readonly rssMbAfterLoad: number | null;
  readonly peakRssMb: number | null;
  /** Why the search ended where it did, in words. */
  readonly limitedBy: string;
}

/** The step the capacity was found at (the highest that passed), or null. */
export function capacityStep(m: Pick<RoleMeasurement, 'search'>): StepFigures | null {
  const { capacity, steps } = m.search;
  if (capacity === null) return null;
  return steps.find((s) => s.pass && s.rate === capacity)?.figures ?? null;
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Hit ratios as the file keeps them: lookups and the ratio (3 decimals) per cache and tier. */
export function compactRatios(
  ratios: Readonly<Record<string, TierRatio>> | null | undefined,
): Record<string, { lookups: number; hitRatio: number | null }> | null {
  if (ratios === null || ratios === undefined) return null;
  return Object.fromEntries(
    Object.entries(ratios)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, { lookups: v.lookups, hitRatio: v.hitRatio === null ? null : r3(v.hitRatio) }]),
  );
}

export interface RoleEntry {
  readonly rpsPerPod: number;
  readonly sloP99Ms: number;
  readonly podStartSeconds: number;
  readonly cpuAtCapacityPercent?: number;
  readonly maxCpuPercent?: number;
  readonly meta: Record<string, unknown>;
}

export interface CapacityDoc {
  readonly $schema?: string;
  readonly version: 1;
  readonly measuredAt: string;
  readonly source: string;
  readonly meta: Record<string, unknown>;
  readonly roles: Record<string, RoleEntry>;
}

export interface CapacityFileInput {
  readonly measuredAt: string;
  readonly source: string;
  readonly schemaRef?: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly configuration: Record<string, unknown>;
  readonly search: Record<string, unknown>;
  readonly slo: Readonly<Partial<Record<CapacityRole, RoleSlo>>>;
  readonly measurements: readonly RoleMeasurement[];
}

/**
 * True when the search could only say "at least": the top of its range passed, it ran out of steps before
 * any miss, or the only reason for the miss above was the generator's own lag.
 */
export function isLowerBound(m: Pick<RoleMeasurement, 'search'>): boolean {
  const s = m.search;
  if (s.capacity === null) return false;
  if (s.hi === null) return true;
  return generatorOnly(s.steps.find((x) => !x.pass && x.rate === s.hi)?.reason ?? null);
}

function searchMeta(m: RoleMeasurement): Record<string, unknown> {
  return {
    capacityIsLowerBound: isLowerBound(m),
    lo: m.search.lo,
    hi: m.search.hi,
    stop: m.search.stop,
    steps: m.search.steps.length,
    limitedBy: m.limitedBy,
  };
}

/** In % of the request, within the schema's (0, 1000]; undefined when there is nothing to say. */
function ofRequest(cores: number, requestMilli: number): number | undefined {
  const p = r1((cores * 100 * 1000) / requestMilli);
  return p > 0 ? Math.min(1000, p) : undefined;
}

/**
 * Builds the file. A role with a cold and a warm measurement takes the cold one's capacity (the
 * conservative figure: caches that have not filled yet, a new pod's) and records the warm one in meta. A
 * role whose search found no capacity (every rate missed, or the process died) is left out of `roles` and
 * named in meta.notMeasured.
 */
export function capacityFile(input: CapacityFileInput): CapacityDoc {
  const byRole = new Map<CapacityRole, RoleMeasurement[]>();
  for (const m of input.measurements) byRole.set(m.role, [...(byRole.get(m.role) ?? []), m]);
  const roles: Record<string, RoleEntry> = {};
  const notMeasured: Record<string, string> = {};
  for (const [role, ms] of byRole) {
    const cold = ms.find((m) => m.cache === 'cold');
    const warm = ms.find((m) => m.cache === 'warm');
    const head = cold ?? warm ?? ms[0]!;
    const at = capacityStep(head);
    if (head.search.capacity === null || at === null) {
      notMeasured[TARGET_OF[role]] =
        `no capacity found (${head.search.stop}${head.search.abortReason ? `: ${head.search.abortReason}` : ''}; ${head.limitedBy})`;
      continue;
    }
    const peak = Math.max(...ms.flatMap((m) => m.search.steps.map((s) => s.figures?.peakCores ?? 0)));
    const cpuAt = ofRequest(at.cpuCores, head.requestMilli);
    // The ceiling is only known when some step of the role went past its capacity (a miss that was the
    // role's, not the generator's); otherwise the file leaves maxCpuPercent to the reader's default.
    const saturated = ms.some((m) => m.search.hi !== null && !isLowerBound(m));
    const maxCpu = saturated ? ofRequest(Math.max(peak, at.cpuCores), head.requestMilli) : undefined;
    const meta: Record<string, unknown> = {
      ...(head.cache !== null && { cache: head.cache }),
      mix: head.describe,
      roleEnv: head.roleEnv,
      maxErrorRate: head.slo.maxErrorRate,
      p99MsAtCapacity: r3(at.p99Ms),
      cpuRequestMilli: head.requestMilli,
      cpuPercentOfOneCoreAtCapacity: r1(at.cpuCores * 100),
      peakCpuPercentOfOneCore: r1(peak * 100),
      cpuUsPerRequest: at.cpuUsPerRequest,
      rssMbAfterLoad: head.rssMbAfterLoad,
      peakRssMb: head.peakRssMb,
      podStartSamplesSeconds: ms.map((m) => r1(m.podStartMs / 1000)),
      search: searchMeta(head),
      ...(at.hitRatios !== null && { hitRatios: compactRatios(at.hitRatios) }),
    };
    if (cold !== undefined && warm !== undefined) {
      const warmAt = capacityStep(warm);
      meta.warmCache = {
        mix: warm.describe,
        rpsPerPod: warm.search.capacity,
        ratioToCold:
          warm.search.capacity === null || cold.search.capacity === null
            ? null
            : r3(warm.search.capacity / cold.search.capacity),
        p99MsAtCapacity: warmAt === null ? null : r3(warmAt.p99Ms),
        cpuPercentOfOneCoreAtCapacity: warmAt === null ? null : r1(warmAt.cpuCores * 100),
        cpuUsPerRequest: warmAt?.cpuUsPerRequest ?? null,
        hitRatios: compactRatios(warmAt?.hitRatios),
        search: searchMeta(warm),
      };
    }
    roles[TARGET_OF[role]] = {
      rpsPerPod: head.search.capacity,
      sloP99Ms: head.slo.p99Ms,
      podStartSeconds: Math.min(3600, r1(Math.max(...ms.map((m) => m.podStartMs)) / 1000)),
      ...(cpuAt !== undefined && { cpuAtCapacityPercent: cpuAt }),
      ...(maxCpu !== undefined && cpuAt !== undefined && { maxCpuPercent: Math.max(cpuAt, maxCpu) }),
      meta,
    };
  }
  return {
    ...(input.schemaRef !== undefined && { $schema: input.schemaRef }),
    version: 1,
    measuredAt: input.measuredAt,
    source: input.source,
    meta: {
      quick: input.quick,
      ...(input.quick && {
        warning: 'BENCH_QUICK run: a check that the scenario works, not a measurement; do not plan with it',
      }),
      machine: input.machine,
      slo: input.slo,
      configuration: input.configuration,
      search: input.search,
      ...(Object.keys(notMeasured).length > 0 && { notMeasured }),
    },
    roles,
  };
}
