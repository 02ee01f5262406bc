import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { unifiedDiff } from '../../src/learn/diff.ts';
import { DEFAULT_SCALE_UP } from '../../src/learn/hpa.ts';
import type { ChartSchedule } from '../../src/learn/plan.ts';
import {
  type ChartValues,
  cpuMilli,
  mergeValues,
  readSuite,
  readTargets,
  replaySchedules,
  writeSchedules,
} from '../../src/learn/values.ts';

const charts = join(import.meta.dirname, '../../../../charts');
const read = (p: string) => readFileSync(join(charts, p), 'utf8');
const suiteText = read('suite/values.yaml');
const texts = (suite = suiteText): ChartValues => ({
  suite,
  vendorBff: read('vendor-bff/values.yaml'),
  geo: read('geo/values.yaml'),
  mlProxy: read('ml-proxy/values.yaml'),
});

describe('the HPAs the charts render', () => {
  it('reads each target from the service charts, a BFF role as roles.default with the role laid over it', () => {
    const t = readTargets(texts());
    expect(t['vendor-bff-precise'].hpa).toMatchObject({
      minReplicas: 2,
      maxReplicas: 20,
      targetUtilization: 60,
    });
    expect(t['vendor-bff-precise'].hpa!.behavior).toEqual({
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: 'Max',
        policies: [
          { type: 'Percent', value: 100, periodSeconds: 15 },
          { type: 'Pods', value: 4, periodSeconds: 15 },
        ],
      },
      scaleDown: {
        stabilizationWindowSeconds: 600,
        selectPolicy: 'Max',
        policies: [
          { type: 'Percent', value: 10, periodSeconds: 60 },
          { type: 'Pods', value: 1, periodSeconds: 60 },
        ],
      },
    });
    // admin: its own bounds and target, the default block's behavior.
    expect(t['vendor-bff-admin'].hpa).toMatchObject({
      minReplicas: 2,
      maxReplicas: 4,
      targetUtilization: 70,
    });
    expect(t['vendor-bff-admin'].hpa!.behavior!.scaleDown.stabilizationWindowSeconds).toBe(600);
    expect(t.geo.hpa).toMatchObject({ minReplicas: 2, maxReplicas: 10, targetUtilization: 60 });
    expect(t['ml-proxy'].autoscaled).toBe(true);
    expect(t['vendor-bff-precise'].requestMilli).toBe(1000);
  });

  it('lays the suite file’s overrides over them, as Helm does', () => {
    const t = readTargets(
      texts(`
vendor-bff:
  roles:
    precise:
      autoscaling:
        maxReplicas: 30
        behavior:
          scaleUp: null
    rough:
      enabled: false
geo:
  enabled: false
ml-proxy:
  autoscaling:
    enabled: false
`),
    );
    expect(t['vendor-bff-precise'].hpa!.maxReplicas).toBe(30);
    // scaleUp removed: the API server's default scale-up rules.
    expect(t['vendor-bff-precise'].hpa!.behavior!.scaleUp).toEqual(DEFAULT_SCALE_UP);
    expect(t['vendor-bff-admin'].hpa!.maxReplicas).toBe(4);
    expect(t['vendor-bff-rough'].autoscaled).toBe(false);
    expect(t.geo.autoscaled).toBe(false);
    expect(t['ml-proxy'].autoscaled).toBe(false);
  });

  it('has no HPA in KEDA mode', () => {
    const t = readTargets(texts('global:\n  keda:\n    enabled: true\n'));
    expect(Object.values(t).some((x) => x.autoscaled)).toBe(false);
  });

  it('merges maps key by key, replaces lists and scalars, and deletes with null', () => {
    expect(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] }, d: null, e: 2 })).toEqual({
      a: { b: 1, c: [3] },
      e: 2,
    });
    expect(cpuMilli('1')).toBe(1000);
    expect(cpuMilli('250m')).toBe(250);
    expect(cpuMilli(0.5)).toBe(500);
    expect(cpuMilli('1Gi')).toBeUndefined();
  });
});

describe('the suite values', () => {
  it('reads the zone, the hand-written schedules and the placeholder pools', () => {
    const s = readSuite(suiteText);
    expect(s.timeZone).toBe('Asia/Seoul');
    expect(s.prescaleEnabled).toBe(false);
    expect(s.startingDeadlineSeconds).toBe(900);
    expect(s.schedules.map((x) => [x.name, x.schedule])).toEqual([
      ['lunch-up', '40 10 * * *'],
      ['lunch-down', '30 14 * * *'],
      ['dinner-up', '40 16 * * *'],
      ['dinner-down', '30 21 * * *'],
    ]);
    expect(s.schedules[2]!.minReplicas).toEqual({
      'vendor-bff-precise': 8,
      'vendor-bff-rough': 8,
      geo: 5,
      'ml-proxy': 5,
    });
    expect(s.pools).toEqual({ precise: 'vendor-bff-precise', rough: 'vendor-bff-rough' });
    expect(
      readSuite('placeholders:\n  enabled: false\n  pools:\n    precise: {workload: vendor-bff-precise}\n')
        .pools,
    ).toEqual({});
    expect(replaySchedules(s.schedules)[0]!.cron.hours.has(10)).toBe(true);
  });
});

describe('writing the schedules', () => {
  const schedules: ChartSchedule[] = [
    {
      name: 'daily-1745-up',
      schedule: '45 17 * * *',
      minReplicas: { 'vendor-bff-precise': 8 },
      placeholders: { precise: 2 },
    },
    {
      name: 'daily-2000-down',
      schedule: '0 20 * * *',
      minReplicas: { 'vendor-bff-precise': 2 },
      placeholders: { precise: 0 },
    },
  ];

  it('replaces prescale.schedules and its comment, and leaves every other line as it was', () => {
    const out = writeSchedules(suiteText, schedules, { comment: ' Learned.' });
    const v = parse(out) as { prescale: { schedules: unknown; startingDeadlineSeconds: number } };
    expect(v.prescale.schedules).toEqual(schedules);
    expect(v.prescale.startingDeadlineSeconds).toBe(900);
    // Only the schedules block and its comment changed: every removed line is in the old block or its comment.
    const diff = unifiedDiff(suiteText, out, 'a', 'b');
    const oldBlock = suiteText.slice(
      suiteText.indexOf("  # Seoul's delivery peaks"),
      suiteText.indexOf('# Node pre-warming'),
    );
    for (const line of diff.split('\n').filter((l) => l.startsWith('-') && !l.startsWith('---'))) {
      expect(oldBlock).toContain(line.slice(1));
    }
    expect(out).toContain('  command: [/nodejs/bin/node, src/main.ts]\n');
    expect(out).toContain('  # Learned.\n  schedules:\n');
    // Quoted like the chart's own.
    expect(out).toContain('      schedule: "45 17 * * *"\n');
    expect(out).not.toContain("Seoul's delivery peaks");
  });

  it('sets startingDeadlineSeconds when told', () => {
    const out = writeSchedules(suiteText, schedules, { comment: ' x', startingDeadlineSeconds: 840 });
    expect(
      (parse(out) as { prescale: { startingDeadlineSeconds: number } }).prescale.startingDeadlineSeconds,
    ).toBe(840);
  });

  it('adds a prescale block to a file that has none', () => {
    const out = writeSchedules('timeZone: Asia/Seoul\n', schedules, { comment: ' x' });
    expect((parse(out) as { prescale: { schedules: unknown } }).prescale.schedules).toEqual(schedules);
  });
});
