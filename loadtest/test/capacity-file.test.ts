import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { capacityFile, isLowerBound, type RoleMeasurement, type StepFigures } from '../lib/capacity/file.ts';
import { DEFAULT_CAPACITY_SLO, type CacheCase, type CapacityRole } from '../lib/capacity/options.ts';
import type { SearchResult } from '../lib/capacity/search.ts';
import type { MachineInfo } from '../lib/machine.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const LEARN = join(ROOT, 'services', 'prescaler', 'src', 'learn');
const schema = JSON.parse(readFileSync(join(LEARN, 'capacity.schema.json'), 'utf8')) as object;

/** The prescaler's own reader (the loadtest project does not reference services/*: imported by URL). */
async function parseCapacity(text: string): Promise<{ roles: Record<string, Record<string, number>> }> {
  const mod = (await import(pathToFileURL(join(LEARN, 'capacity.ts')).href)) as {
    parseCapacity(text: string): { roles: Record<string, Record<string, number>> };
  };
  return mod.parseCapacity(text);
}

const MACHINE: MachineInfo = {
  hostname: 'bench',
  cpuModel: 'AMD EPYC',
  cores: 2,
  availableParallelism: 2,
  cgroupCpuLimit: null,
  memoryTotalMb: 24_000,
  memoryFreeMb: 20_000,
  node: 'v24.21.0',
  os: 'Linux 6.18',
  arch: 'x64',
  loadAverage: [0.1, 0.1, 0.1],
  loadEngine: 'go (go1.26.8)',
};

function step(rate: number, cores: number, peak: number, hit: number | null): StepFigures {
  return {
    offeredRate: rate,
    achievedRate: rate,
    scheduled: rate * 10,
    ok: rate * 10,
    errors: 0,
    errorsByKind: {},
    errorSamples: {},
    p50Ms: 2,
    p99Ms: 40.1234,
    p999Ms: 90,
    maxMs: 120,
    lagP99Ms: 0.3,
    cpuUsPerRequest: Math.round((cores * 1e6) / rate),
    cpuCores: cores,
    peakCores: peak,
    depCores: {},
    rssMb: 300,
    hitRatios:
      hit === null
        ? null
        : {
            'stores/l1': { lookups: 1000, hits: 1000, stale: 0, misses: 0, bypassed: 0, hitRatio: 1 },
            'rough-estimates/l1': {
              lookups: 5000,
              hits: Math.round(hit * 5000),
              stale: 0,
              misses: 5000 - Math.round(hit * 5000),
              bypassed: 0,
              hitRatio: hit,
            },
            'rough-estimates/l2': {
              lookups: 0,
              hits: 0,
              stale: 0,
              misses: 0,
              bypassed: 5000,
              hitRatio: null,
            },
          },
  };
}

/** A finished search: passed at `cap` (cores there), missed at 1.1 x cap (a saturated second at `peak`). */
function measured(
  role: CapacityRole,
  cache: CacheCase | null,
  cap: number | null,
  o: { cores?: number; peak?: number; hit?: number | null; requestMilli?: number; startMs?: number } = {},
): RoleMeasurement {
  const miss = cap === null ? 25 : Math.round(cap * 1.04);
  const search: SearchResult<StepFigures> = {
    capacity: cap,
    lo: cap,
    hi: miss,
    stop: cap === null ? 'below-min' : 'resolution',
    abortReason: null,
    steps: [
      ...(cap === null
        ? []
        : [
            {
              index: 0,
              phase: 'ramp' as const,
              rate: cap,
              pass: true,
              reason: null,
              figures: step(cap, o.cores ?? 0.8, o.cores ?? 0.8, o.hit ?? null),
            },
          ]),
      {
        index: 1,
        phase: 'bisect' as const,
        rate: miss,
        pass: false,
        reason: 'p99 400ms > 250ms',
        figures: step(miss, 1, o.peak ?? 1.05, o.hit ?? null),
      },
    ],
  };
  return {
    role,
    cache,
    describe: `${role} mix`,
    roleEnv: role === 'geo' || role === 'ml-proxy' ? {} : { ROLE: role },
    requestMilli: o.requestMilli ?? 1000,
    slo: DEFAULT_CAPACITY_SLO[role],
    podStartMs: o.startMs ?? 4321,
    search,
    rssMbAfterLoad: 310.5,
    peakRssMb: 420,
    limitedBy: `${miss}/s missed: p99 400ms > 250ms`,
  };
}

const INPUT = {
  measuredAt: '2026-12-06T01:00:00.000Z',
  source: 'pnpm bench capacity (test)',
  schemaRef: '../services/prescaler/src/learn/capacity.schema.json',
  quick: false,
  machine: MACHINE,
  configuration: { asShipped: true, overrides: {} },
  search: { factor: 2, resolution: 0.05 },
  slo: DEFAULT_CAPACITY_SLO,
};

const ALL: RoleMeasurement[] = [
  measured('precise', 'cold', 2600, { cores: 0.78, peak: 1.12, hit: 0.01, startMs: 9000 }),
  measured('precise', 'warm', 2700, { cores: 0.8, hit: 0.6, startMs: 11_000 }),
  measured('rough', 'cold', 180, { cores: 0.9, hit: 0.03 }),
  measured('rough', 'warm', 900, { cores: 0.85, hit: 0.95 }),
  measured('admin', null, 2200, { cores: 0.7, requestMilli: 250 }),
  measured('geo', null, 6000, { cores: 0.8, peak: 1.02, requestMilli: 500, startMs: 1200 }),
  measured('ml-proxy', null, 4000, { cores: 0.9, peak: 1.3, requestMilli: 500, startMs: 2500 }),
];

describe('capacity file', () => {
  it('validates against capacity.schema.json and the prescaler reads it', async () => {
    const doc = capacityFile({ ...INPUT, measurements: ALL });
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const valid = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const parsed = await parseCapacity(JSON.stringify(doc));
    expect(Object.keys(parsed.roles).sort()).toEqual([
      'geo',
      'ml-proxy',
      'vendor-bff-admin',
      'vendor-bff-precise',
      'vendor-bff-rough',
    ]);
  });

  it('takes the cold-cache capacity, and keeps the warm one, its hit ratios and the ratio in meta', () => {
    const doc = capacityFile({ ...INPUT, measurements: ALL });
    const rough = doc.roles['vendor-bff-rough']!;
    expect(rough.rpsPerPod).toBe(180);
    expect(rough.sloP99Ms).toBe(250);
    expect(rough.meta.cache).toBe('cold');
    expect(rough.meta.warmCache).toMatchObject({ rpsPerPod: 900, ratioToCold: 5 });
    expect((rough.meta.warmCache as { hitRatios: object }).hitRatios).toEqual({
      'rough-estimates/l1': { lookups: 5000, hitRatio: 0.95 },
      'rough-estimates/l2': { lookups: 0, hitRatio: null },
      'stores/l1': { lookups: 1000, hitRatio: 1 },
    });
    expect(rough.meta.hitRatios).toMatchObject({ 'rough-estimates/l1': { hitRatio: 0.03 } });
  });

  it('gives CPU at capacity in % of the chart request (the HPA unit), and in % of one core in meta', () => {
    const doc = capacityFile({ ...INPUT, measurements: ALL });
    const geo = doc.roles.geo!;
    // 0.8 of a core on a 500m request.
    expect(geo.cpuAtCapacityPercent).toBe(160);
    expect(geo.meta.cpuPercentOfOneCoreAtCapacity).toBe(80);
    // The busiest second of any step is the ceiling: 1.02 cores on 500m.
    expect(geo.maxCpuPercent).toBe(204);
    const precise = doc.roles['vendor-bff-precise']!;
    expect(precise.cpuAtCapacityPercent).toBe(78);
    // Peak over both searches of the role (cold and warm).
    expect(precise.maxCpuPercent).toBe(112);
    expect(doc.roles['vendor-bff-admin']!.cpuAtCapacityPercent).toBe(280);
  });

  it('takes the slowest start of a role as its pod start, in seconds', () => {
    const doc = capacityFile({ ...INPUT, measurements: ALL });
    expect(doc.roles['vendor-bff-precise']!.podStartSeconds).toBe(11);
    expect(doc.roles['vendor-bff-precise']!.meta.podStartSamplesSeconds).toEqual([9, 11]);
    expect(doc.roles.geo!.podStartSeconds).toBe(1.2);
  });

  it('leaves out a role without a capacity and says why; says a quick run is one', async () => {
    const doc = capacityFile({
      ...INPUT,
      quick: true,
      measurements: [measured('geo', null, 6000, { requestMilli: 500 }), measured('ml-proxy', null, null)],
    });
    expect(Object.keys(doc.roles)).toEqual(['geo']);
    expect(doc.meta.notMeasured).toEqual({
      'ml-proxy': expect.stringMatching(/^no capacity found \(below-min/),
    });
    expect(doc.meta.quick).toBe(true);
    expect(doc.meta.warning).toMatch(/BENCH_QUICK/);
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(doc)).toBe(true);
    await expect(parseCapacity(JSON.stringify(doc))).resolves.toBeDefined();
  });

  it('says when a capacity is only a lower bound', () => {
    const exact = measured('geo', null, 6000);
    expect(isLowerBound(exact)).toBe(false);
    // Nothing missed: the top of the range, or the step limit, came first.
    expect(isLowerBound({ search: { ...exact.search, hi: null, stop: 'upper-bound' } })).toBe(true);
    // The only miss above was the generator's.
    const generator = {
      ...exact.search,
      steps: exact.search.steps.map((st) =>
        st.pass ? st : { ...st, reason: 'generator fell behind: send lag p99 40ms > 25ms' },
      ),
    };
    expect(isLowerBound({ search: generator })).toBe(true);
    const geo = capacityFile({ ...INPUT, measurements: [{ ...exact, search: generator }] }).roles.geo!;
    expect(geo.meta.search).toMatchObject({ capacityIsLowerBound: true });
    // The role never went past its capacity: its CPU ceiling is unknown, and left to the reader's default.
    expect(geo.maxCpuPercent).toBeUndefined();
    // 0.8 of a core on this measurement's 1-core request.
    expect(geo.cpuAtCapacityPercent).toBe(80);
    expect(isLowerBound(measured('geo', null, null))).toBe(false);
  });
});
