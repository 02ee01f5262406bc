import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MIX, DEFAULT_SLO, parseOptions, scenarioArgs } from '../lib/meal-peak/options.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

describe('meal-peak options', () => {
  it('defaults: the suite here, 400/s at the peak, a day in 200 s, the stated SLOs', () => {
    const o = parseOptions([], false);
    expect(o).toMatchObject({
      target: null,
      peakRate: 400,
      speed: 432,
      floor: 0.05,
      fromSlot: 0,
      toSlot: 95,
      warmupMs: 10_000,
    });
    expect(o.mix).toEqual(DEFAULT_MIX);
    expect(o.slo).toEqual(DEFAULT_SLO);
    expect(o.slo.precise).toEqual({ p99Ms: 250, maxErrorRate: 0.01, maxDegradedShare: 0.05 });
    expect(parseOptions([], true)).toMatchObject({
      peakRate: 100,
      speed: 1800,
      warmupMs: 2000,
      maxStartSlip: 0.25,
    });
  });

  it('reads a remote target, per-route SLOs, the mix and a part of the day', () => {
    const o = parseOptions(
      [
        '--target',
        'http://127.0.0.1:8080/',
        '--peak-rate',
        '300',
        '--slo-p99-ms',
        'rough=400,admin=500',
        '--slo-error-rate',
        '0.02',
        '--mix',
        'admin=0',
        '--from',
        '17:00',
        '--to',
        '21:50',
      ],
      false,
    );
    expect(o.target).toBe('http://127.0.0.1:8080');
    expect(o.peakRate).toBe(300);
    expect([o.slo.precise.p99Ms, o.slo.rough.p99Ms, o.slo.admin.p99Ms]).toEqual([250, 400, 500]);
    expect([o.slo.precise.maxErrorRate, o.slo.admin.maxErrorRate]).toEqual([0.02, 0.02]);
    expect(o.mix).toEqual({ ...DEFAULT_MIX, admin: 0 });
    expect([o.fromSlot, o.toSlot]).toEqual([68, 87]);
  });

  it('refuses what it cannot honour, naming the option', () => {
    expect(() => parseOptions(['--target', 'https://staging.example.com'], false)).toThrow(/http:\/\//);
    expect(() => parseOptions(['--target', 'http://127.0.0.1:8080/v1'], false)).toThrow(/base URL/);
    expect(() => parseOptions(['--peak-rate', '0'], false)).toThrow(/--peak-rate/);
    expect(() => parseOptions(['--page-size', '201'], false)).toThrow(/--page-size/);
    expect(() => parseOptions(['--slo-p99-ms', 'checkout=1'], false)).toThrow(/route=value/);
    expect(() => parseOptions(['--mix', 'rough=0,detail=0,checkout=0,admin=0'], false)).toThrow(
      /every weight/,
    );
    expect(() => parseOptions(['--from', '20:00', '--to', '19:00'], false)).toThrow(/after/);
    expect(() => parseOptions(['--speeed', '2'], false)).toThrow(/speeed/);
    expect(() => parseOptions(['extra'], false)).toThrow(/unexpected/);
  });

  it('takes its arguments from BENCH_SCENARIO_ARGS', () => {
    expect(scenarioArgs({})).toEqual([]);
    expect(scenarioArgs({ BENCH_SCENARIO_ARGS: '["--target","http://127.0.0.1:1"]' })).toEqual([
      '--target',
      'http://127.0.0.1:1',
    ]);
    expect(() => scenarioArgs({ BENCH_SCENARIO_ARGS: '{"target":1}' })).toThrow(/JSON array/);
  });
});

describe('pnpm bench: options after the scenario name', () => {
  // Each call fails before any scenario runs: only the argument handling is exercised.
  const bench = (...args: string[]) =>
    run(process.execPath, [join(ROOT, 'loadtest', 'bench.ts'), ...args], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );

  it('still refuses options for the scenarios that take none, as before', async () => {
    for (const args of [
      ['hop-floor', '--target', 'http://127.0.0.1:1'],
      ['--target', 'x'],
      ['--peak-rate', '1', 'meal-peak'],
    ]) {
      const r = await bench(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^unknown option: --(target|peak-rate)/);
    }
    const both = await bench('meal-peak', 'hop-floor', '--target', 'x');
    expect(both.code).toBe(2);
  });

  // (That meal-peak gets them is shown by running it; a run here would write a results file.)
  it('gives options only to meal-peak named exactly', async () => {
    const r = await bench('meal-peek', '--target', 'http://127.0.0.1:1');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option: --target/);
  });
});
