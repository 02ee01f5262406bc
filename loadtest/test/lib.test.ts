import { describe, expect, it } from 'vitest';
import {
  busyMachineWarning,
  settle,
  classifyError,
  fmtMs,
  formatMachineInfo,
  formatTable,
  machineInfo,
  median,
  MicrosHistogram,
  seededRandom,
  weightedPicker,
  type MachineInfo,
} from '../lib/index.ts';

describe('weightedPicker', () => {
  it('picks entries in proportion to their weights', () => {
    const pick = weightedPicker([
      { name: 'a', weight: 6, build: () => ({ path: '/' }) },
      { name: 'b', weight: 3, build: () => ({ path: '/' }) },
      { name: 'c', weight: 1, build: () => ({ path: '/' }) },
      { name: 'never', weight: 0, build: () => ({ path: '/' }) },
    ]);
    const random = seededRandom(42);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[pick(random())]!++;
    expect(counts[0]).toBeGreaterThan(5700);
    expect(counts[0]).toBeLessThan(6300);
    expect(counts[1]).toBeGreaterThan(2700);
    expect(counts[1]).toBeLessThan(3300);
    expect(counts[2]).toBeGreaterThan(800);
    expect(counts[2]).toBeLessThan(1200);
    expect(counts[3]).toBe(0);
  });

  it('rejects mixes that cannot pick anything', () => {
    expect(() => weightedPicker([])).toThrow(/empty/);
    expect(() => weightedPicker([{ name: 'a', weight: 0, build: () => ({ path: '/' }) }])).toThrow(
      /sum to 0/,
    );
    expect(() => weightedPicker([{ name: 'a', weight: -1, build: () => ({ path: '/' }) }])).toThrow(/weight/);
  });
});

describe('seededRandom', () => {
  it('repeats for a seed, differs across seeds and stays in [0, 1)', () => {
    const a = seededRandom(1);
    const b = seededRandom(1);
    const c = seededRandom(2);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('classifyError', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['ECONNREFUSED', 'connect'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout'],
    ['ECONNRESET', 'socket'],
    ['UND_ERR_SOCKET', 'socket'],
    ['HPE_INVALID_CHUNK_SIZE', 'socket'],
    ['ESOMETHING', 'other'],
  ])('%s -> %s', (code, kind) => {
    expect(classifyError(err(code))).toBe(kind);
  });

  it('looks inside wrapped errors and tolerates non-errors', () => {
    expect(classifyError(new AggregateError([err('ECONNREFUSED')]))).toBe('connect');
    expect(classifyError(new Error('x', { cause: err('ECONNRESET') }))).toBe('socket');
    expect(classifyError('nope')).toBe('other');
  });
});

describe('MicrosHistogram', () => {
  it('reports percentiles in ms at microsecond resolution', () => {
    const h = new MicrosHistogram();
    for (let i = 1; i <= 1000; i++) h.recordMs(i / 1000); // 1 µs .. 1 ms
    h.recordMs(250);
    const f = h.figures();
    expect(f.count).toBe(1001);
    expect(f.min).toBe(0.001);
    expect(f.p50).toBeCloseTo(0.5, 2);
    expect(f.p99).toBeCloseTo(0.99, 2);
    expect(f.max).toBeCloseTo(250, 0);
  });

  it('clamps absurd values instead of throwing and is all zeros when empty', () => {
    expect(new MicrosHistogram().figures().p99).toBe(0);
    const h = new MicrosHistogram();
    h.recordMs(10 * 60_000);
    h.recordMs(-1);
    expect(h.figures().max).toBeCloseTo(60_000, -1);
    expect(h.count).toBe(2);
  });
});

describe('median', () => {
  it('is the middle figure of an odd count and the mean of the two middle ones of an even count', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([7])).toBe(7);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('leaves its input in the order it was given', () => {
    const figures = [3, 1, 2];
    median(figures);
    expect(figures).toEqual([3, 1, 2]);
  });
});

describe('formatting', () => {
  it('fmtMs keeps about three significant figures', () => {
    expect(fmtMs(0.4123)).toBe('0.41ms');
    expect(fmtMs(12.345)).toBe('12.3ms');
    expect(fmtMs(304.4)).toBe('304ms');
  });

  it('formatTable aligns columns, numbers to the right', () => {
    const t = formatTable([
      { variant: 'bare', rate: 2000, p99: 1.25 },
      { variant: 'service-kit', rate: 500, p99: null },
    ]);
    expect(t.split('\n')).toEqual([
      'variant      rate   p99',
      '-----------  ----  ----',
      'bare         2000  1.25',
      'service-kit   500     -',
    ]);
    expect(formatTable([])).toBe('');
  });
});

describe('machineInfo', () => {
  it('says what machine ran the benchmark', () => {
    const m = machineInfo();
    expect(m.cores).toBeGreaterThan(0);
    expect(m.node).toBe(process.version);
    expect(m.loadAverage).toHaveLength(3);
    expect(m.memoryTotalMb).toBeGreaterThan(0);
    expect(formatMachineInfo(m)).toContain(m.cpuModel);
  });

  it('warns about a busy machine from the 1-minute load average', () => {
    const base: MachineInfo = { ...machineInfo(), availableParallelism: 2, loadAverage: [0.2, 0.2, 0.2] };
    expect(busyMachineWarning(base)).toBeNull();
    expect(busyMachineWarning({ ...base, loadAverage: [1.7, 0.5, 0.2] })).toMatch(/load average is 1.7/);
  });

  it('waits for the load average to settle, polling, and no longer than it is allowed', async () => {
    // A fake clock: each sleep moves it; the load falls by 0.4 per look.
    const run = async (loads: number[], maxMs: number) => {
      let t = 0;
      const slept: number[] = [];
      const result = await settle({
        maxMs,
        pollMs: 5_000,
        threshold: 0.5,
        load: () => loads.shift() ?? 0,
        now: () => t,
        sleep: async (ms) => {
          slept.push(ms);
          t += ms;
        },
      });
      return { ...result, slept };
    };
    expect(await run([0.3], 150_000)).toEqual({ waitedMs: 0, load: 0.3, settled: true, slept: [] });
    expect(await run([1.7, 1.3, 0.9, 0.5], 150_000)).toEqual({
      waitedMs: 15_000,
      load: 0.5,
      settled: true,
      slept: [5_000, 5_000, 5_000],
    });
    // Never past maxMs: the last sleep is cut to what is left, and the answer says it did not settle.
    expect(await run([2, 2, 2, 2], 12_000)).toEqual({
      waitedMs: 12_000,
      load: 2,
      settled: false,
      slept: [5_000, 5_000, 2_000],
    });
  });
});

describe('regression: p99 was reported above max', () => {
  it('never reports a percentile above the largest recorded value', () => {
    const h = new MicrosHistogram();
    // 4997 µs shares a bucket with 4996-4999: the raw percentile would say 4999, above the max.
    for (let i = 0; i < 100; i++) h.recordMs(4.997);
    const f = h.figures();
    expect(f.max).toBe(4.997);
    expect(f.p99).toBe(4.997);
    expect(f.p999).toBe(4.997);
  });
});
