import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main as plan } from '../../src/cli/plan.ts';
import { main as simulate } from '../../src/cli/simulate.ts';
import { mealPeakHistory, STEEP, toCsv } from './traffic.ts';

const dir = mkdtempSync(join(tmpdir(), 'prescaler-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixtures = join(import.meta.dirname, 'fixtures');
const suiteValues = join(import.meta.dirname, '../../../../charts/suite/values.yaml');
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
function io() {
  const o = { out: '', err: '' };
  return { o, io: { out: (s: string) => void (o.out += s), err: (s: string) => void (o.err += s) } };
}

const peaks = { 'vendor-bff-precise': 12000, 'vendor-bff-rough': 3000, geo: 15000, 'ml-proxy': 9000 };
const history = file('history.csv', toCsv(mealPeakHistory('2026-03-02', 14, peaks)));
// A day after the history, 5 % busier than its average day.
const day = file(
  'day.csv',
  toCsv(
    mealPeakHistory(
      '2026-03-20',
      1,
      Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, v * 1.05])),
      0.05,
      9,
    ),
  ),
);
const learned = join(dir, 'learned-values.yaml');

const capacity = join(fixtures, 'capacity.json');
const planArgs = ['--history', history, '--capacity', capacity, '--values', suiteValues, '--out', learned];
let planRun: { code: number; out: string; err: string };
// Two weeks of history and a day of simulation take about a second here; the caps are for a busy runner.
beforeAll(() => {
  const { o, io: cap } = io();
  planRun = { code: plan(planArgs, cap), ...o };
}, 30_000);

describe('prescaler plan', () => {
  it('writes the learned schedules and prints the diff of the values', () => {
    const { code, out, err } = planRun;
    expect(code, err).toBe(0);
    expect(out).toMatch(
      new RegExp(`^--- ${suiteValues.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n\\+\\+\\+ ${learned}\\n@@ `),
    );
    expect(out).toContain('-    - name: lunch-up');
    expect(err).toMatch(/^plan: \d+ schedule\(s\), 15-minute slots/);
    expect(err).toContain('note: prescale.enabled is false');
    const v = parse(readFileSync(learned, 'utf8')) as {
      prescale: { schedules: { name: string; minReplicas: Record<string, number> }[] };
    };
    expect(v.prescale.schedules.length).toBeGreaterThan(4);
    expect(Object.keys(v.prescale.schedules[0]!.minReplicas).sort()).toEqual([
      'geo',
      'ml-proxy',
      'vendor-bff-precise',
      'vendor-bff-rough',
    ]);
  });

  const out = ['--out', join(dir, 'x.yaml')];
  it.each([
    ['a missing flag', ['--history', history], /--capacity is required/],
    ['an unknown flag', [...planArgs, '--bogus'], /Unknown option '--bogus'/],
    ['a bad quantile', [...planArgs, ...out, '--quantile', '95'], /--quantile 95: expected 0 < q <= 1/],
    ['a bad slot', [...planArgs, ...out, '--slot', '20'], /--slot 20: expected 15 or 30/],
    ['a bad method', [...planArgs, ...out, '--method', 'median'], /--method median/],
    [
      'a missing file',
      [...planArgs, ...out, '--capacity', join(dir, 'nope.json')],
      /capacity .*nope.json: ENOENT/,
    ],
    ['bad day groups', [...planArgs, ...out, '--day-groups', 'mon-fri,fri'], /fri is in two groups/],
  ])('exits 2 on %s, saying why', (_why, args, message) => {
    const { o, io: cap } = io();
    expect(plan(args, cap)).toBe(2);
    expect(o.err).toMatch(message);
  });

  it('exits 2 on a bad history row, with its line', () => {
    const { o, io: cap } = io();
    const bad = file('bad.csv', 'timestamp,role,rps\n2026-03-02T18:00:00,precise,5\n');
    expect(
      plan(
        ['--history', bad, '--capacity', capacity, '--values', suiteValues, '--out', join(dir, 'x.yaml')],
        cap,
      ),
    ).toBe(2);
    expect(o.err).toBe('plan: line 2: timestamp "2026-03-02T18:00:00" has no UTC offset (add Z or +09:00)\n');
  });
});

describe('prescaler simulate', () => {
  it('prints the four policies and the goal, and writes JSON', { timeout: 30_000 }, () => {
    expect(planRun.code, planRun.err).toBe(0);
    const { o, io: cap } = io();
    const json = join(dir, 'result.json');
    const code = simulate(
      [
        '--traffic',
        day,
        '--capacity',
        capacity,
        '--values',
        suiteValues,
        '--plan-values',
        learned,
        '--day',
        '2026-03-20',
        '--json',
        json,
      ],
      cap,
    );
    expect(code, o.err).toBe(0);
    const lines = o.out.split('\n');
    expect(lines[0]).toBe(
      '2026-03-20 (Asia/Seoul), 24 h, roles vendor-bff-precise, vendor-bff-rough, geo, ml-proxy',
    );
    expect(lines[1]).toMatch(/^policy\s+minutes above SLO\s+seconds over\s+replica-hours\s+vs oracle/);
    expect(lines.slice(2, 6).map((l) => l.split(/\s+/)[0])).toEqual([
      'reactive',
      'cron',
      'learned',
      'oracle',
    ]);
    expect(lines[5]).toMatch(/^oracle\s+0\s+0\s+[\d.]+\s+\+0\.0 %/);
    expect(o.out).toMatch(
      /goal \(under 1 minute above SLO per day, at most \+10 % replica-hours vs oracle\): [\d.]+ min\/day, [+-][\d.]+ % -> (met|NOT met)/,
    );
    const result = JSON.parse(readFileSync(json, 'utf8')) as {
      results: { policy: string; roles: { minutes: unknown[] }[] }[];
    };
    expect(result.results.map((r) => r.policy)).toEqual(['reactive', 'cron', 'learned', 'oracle']);
    expect(result.results[0]!.roles[0]!.minutes).toHaveLength(1440);
  });

  it('meets the goal with the learned plan on a steep peak', { timeout: 60_000 }, () => {
    // Three weeks of steep meal peaks (most of the rise within half an hour), then a day 5 % busier. With
    // raises a whole slot ahead the learned plan took 8.8 % more replica-hours than the oracle here (17.7 %
    // with 30-minute slots); to the minute, 5.4 %.
    const steepHistory = file('steep.csv', toCsv(mealPeakHistory('2026-03-02', 21, peaks, 0.05, 1, STEEP)));
    const busier = Object.fromEntries(Object.entries(peaks).map(([k, v]) => [k, v * 1.05]));
    const steepDay = file('steep-day.csv', toCsv(mealPeakHistory('2026-03-27', 1, busier, 0.05, 9, STEEP)));
    const out = join(dir, 'steep-values.yaml');
    const p = io();
    const planned = plan(
      ['--history', steepHistory, '--capacity', capacity, '--values', suiteValues, '--out', out],
      p.io,
    );
    expect(planned, p.o.err).toBe(0);
    const { o, io: cap } = io();
    const args = ['--capacity', capacity, '--values', suiteValues, '--plan-values', out];
    expect(simulate(['--traffic', steepDay, ...args, '--day', '2026-03-27'], cap), o.err).toBe(0);
    const learnedRow = o.out
      .split('\n')
      .find((l) => l.startsWith('learned'))!
      .split(/\s+/);
    expect(learnedRow[1], o.out).toBe('0'); // minutes above the SLO
    expect(Number(learnedRow[4]), o.out).toBeLessThanOrEqual(10); // % vs the oracle
    expect(o.out).toMatch(/-> met$/m);
  });

  it('exits 2 on a day the traffic does not have', () => {
    const { o, io: cap } = io();
    expect(
      simulate(
        ['--traffic', day, '--capacity', capacity, '--values', suiteValues, '--day', '2026-03-21'],
        cap,
      ),
    ).toBe(2);
    expect(o.err).toMatch(/--day 2026-03-21: the traffic has no sample on that day/);
  });
});
