import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Capacity } from '../../src/learn/capacity.ts';
import { parseCron } from '../../src/learn/cron.ts';
import type { Sample } from '../../src/learn/history.ts';
import {
  type ChartSchedule,
  leadMinutes,
  learnPlan,
  minutesAhead,
  parseDayGroups,
  type PlanOptions,
  scheduleName,
  slotPeaks,
} from '../../src/learn/plan.ts';
import { InputError, type TargetId } from '../../src/learn/targets.ts';
import { mealPeakHistory, seoulMidnight } from './traffic.ts';

const P: TargetId = 'vendor-bff-precise';
const capacity: Capacity = {
  version: 1,
  roles: {
    [P]: { rpsPerPod: 1000, cpuAtCapacityPercent: 100, maxCpuPercent: 100 },
    'vendor-bff-rough': { rpsPerPod: 400, cpuAtCapacityPercent: 100, maxCpuPercent: 100 },
    geo: { rpsPerPod: 3000, cpuAtCapacityPercent: 100, maxCpuPercent: 100 },
    'ml-proxy': { rpsPerPod: 1500, cpuAtCapacityPercent: 100, maxCpuPercent: 100 },
  },
};
const base: PlanOptions = {
  quantile: 0.95,
  method: 'linear',
  headroom: 1,
  slotMinutes: 15,
  nodeDelayS: 240,
  podStartS: 60,
  timeZone: 'Asia/Seoul',
  bounds: { [P]: { minReplicas: 2, maxReplicas: 20 } },
  pools: {},
};

/** Per-minute samples of one role for `days` days from a Seoul date: rate(weekday, minute of day, day index). */
function history(
  first: string,
  days: number,
  rate: (weekday: number, minute: number, day: number) => number,
  role = P,
) {
  const out: Sample[] = [];
  const start = seoulMidnight(first);
  for (let d = 0; d < days; d++) {
    const weekday = new Date((start + d * 86400 + 9 * 3600) * 1000).getUTCDay();
    for (let m = 0; m < 1440; m++)
      out.push({ t: start + d * 86400 + m * 60, role, rps: rate(weekday, m, d) });
  }
  return out;
}
/** 1,000 rps, 8,000 from 18:00 to 20:00: 2 replicas (the floor), 8 in the peak. */
const dinner = (_w: number, m: number) => (m >= 18 * 60 && m < 20 * 60 ? 8000 : 1000);
const when = (s: ChartSchedule) => s.schedule;

describe('minutesAhead: raises move earlier to the minute, lowerings do not', () => {
  it('rounds a lead up to whole minutes', () => {
    expect([0, 30, 60, 300, 330, 930, 1170, 1290].map(leadMinutes)).toEqual([0, 1, 1, 5, 6, 16, 20, 22]);
  });

  it('is the highest requirement of the slots whose raise time has come, cyclically, worked by hand', () => {
    // 15-minute slots over the week, 1 pod but Sunday 18:00 (slot 72: 8 pods), 18:15 (slot 73: 5 pods)
    // and Sunday 00:00 (slot 0: 9 pods); a 6-minute lead.
    const required = Array.from({ length: 7 * 96 }, (_, i) => ({ 0: 9, 72: 8, 73: 5 })[i] ?? 1);
    const at = minutesAhead(required, 15, 6);
    expect(at).toHaveLength(7 * 1440);
    const hm = (h: number, m: number) => h * 60 + m;
    expect(at[hm(17, 53)]).toBe(1);
    expect(at[hm(17, 54)]).toBe(8); // 18:00 - 6 minutes
    expect(at[hm(18, 9)]).toBe(8); // 18:15's raise to 5 has come, 8 is still higher
    expect(at[hm(18, 14)]).toBe(8);
    expect(at[hm(18, 15)]).toBe(5); // lowered when 18:00's slot ends, not earlier
    expect(at[hm(18, 29)]).toBe(5);
    expect(at[hm(18, 30)]).toBe(1);
    // The week wraps: Sunday 00:00's raise is on Saturday at 23:54.
    expect(at[6 * 1440 + hm(23, 53)]).toBe(1);
    expect(at[6 * 1440 + hm(23, 54)]).toBe(9);
    expect(at[hm(0, 14)]).toBe(9);
    expect(at[hm(0, 15)]).toBe(1);
    // No lead: each slot's own requirement.
    expect(minutesAhead(required, 15, 0)[hm(17, 59)]).toBe(1);
  });
});

describe('lead time, to the minute', () => {
  it('raises pod start + node delay + 30 s before the peak, rounded down to the minute, and lowers when the rate falls', () => {
    // 60 + 240 + 30 = 330 s: 5.5 minutes, so at 17:54. One Monday of history stands for every day.
    const plan = learnPlan(history('2026-03-02', 1, dinner), capacity, base);
    expect(plan.schedules).toEqual([
      { name: 'daily-1754-up', schedule: '54 17 * * *', minReplicas: { [P]: 8 } },
      { name: 'daily-2000-down', schedule: '0 20 * * *', minReplicas: { [P]: 2 } },
    ]);
    expect(plan.roles[0]).toMatchObject({ leadPodMinutes: 6, leadTotalMinutes: 6 });
    expect(plan.warnings.join('\n')).toMatch(/no sun, tue, wed, thu, fri, sat/);
  });

  it.each([
    // pod start, node delay, slot -> raise at; lead = pod start + node delay + 30 s, rounded up to minutes
    // (before, to whole slots: 17:30, 17:30, 17:30, 17:00, 17:45)
    [900, 240, 15, '40 17 * * *'], // 1,170 s: 19.5 minutes
    [60, 870, 15, '44 17 * * *'], // 960 s: 16 minutes exactly
    [60, 240, 30, '54 17 * * *'], // 330 s: 30-minute slots change what is raised, not when
    [60, 1800, 30, '28 17 * * *'], // 1,890 s: 31.5 minutes
    [0, 0, 15, '59 17 * * *'], // 30 s: still a minute, the CronJob and the HPA's sync take time
  ])(
    'pod start %i s, node delay %i s, %i-minute slots: raise at %s',
    (podStartS, nodeDelayS, slotMinutes, raise) => {
      const plan = learnPlan(history('2026-03-02', 1, dinner), capacity, {
        ...base,
        podStartS,
        nodeDelayS,
        slotMinutes: slotMinutes as 15 | 30,
      });
      const up = plan.schedules.find((s) => s.minReplicas[P] === 8)!;
      expect(up.schedule).toBe(raise);
      // The raise lands at least the whole lead before 18:00, and less than a minute more.
      const c = parseCron(up.schedule);
      const raiseMinute = [...c.hours][0]! * 60 + [...c.minutes][0]!;
      const leadMin = (podStartS + nodeDelayS + 30) / 60;
      expect(18 * 60 - raiseMinute).toBeGreaterThanOrEqual(leadMin);
      expect(18 * 60 - raiseMinute).toBeLessThan(leadMin + 1);
      // The lowering is never advanced: at 20:00, when the rate has fallen, whatever the lead.
      expect(plan.schedules.find((s) => s.minReplicas[P] === 2)!.schedule).toBe('0 20 * * *');
    },
  );

  it('takes the pod start from the capacity file unless told', () => {
    const slow: Capacity = { version: 1, roles: { [P]: { ...capacity.roles[P]!, podStartSeconds: 900 } } };
    const { podStartS: _drop, ...noOverride } = base;
    const plan = learnPlan(history('2026-03-02', 1, dinner), slow, noOverride);
    expect(plan.roles[0]!.podStartS).toBe(900);
    expect(plan.schedules.map(when)).toEqual(['40 17 * * *', '0 20 * * *']);
  });
});

describe('placeholders: node room ahead of the pods', () => {
  it('brings nodes up a node delay before the pods, and keeps room for one more raise while rising', () => {
    // Node delay 1,200 s: nodes 22 minutes ahead (60 + 1,200 + 30 s), pods 2 (60 + 30 s).
    const plan = learnPlan(history('2026-03-02', 1, dinner), capacity, {
      ...base,
      nodeDelayS: 1200,
      pools: { precise: P },
    });
    expect(plan.roles[0]).toMatchObject({ leadPodMinutes: 2, leadTotalMinutes: 22 });
    expect(plan.schedules).toEqual([
      // lead: 8 needed 22 minutes ahead, 2 pods now -> 6; ramp 0
      {
        name: 'daily-1738-up',
        schedule: '38 17 * * *',
        minReplicas: { [P]: 2 },
        placeholders: { precise: 6 },
      },
      // lead 0 (the pods are raised); ramp: the raise was 6, room for it for a slot's length
      {
        name: 'daily-1758-up',
        schedule: '58 17 * * *',
        minReplicas: { [P]: 8 },
        placeholders: { precise: 6 },
      },
      {
        name: 'daily-1813-down',
        schedule: '13 18 * * *',
        minReplicas: { [P]: 8 },
        placeholders: { precise: 0 },
      },
      {
        name: 'daily-2000-down',
        schedule: '0 20 * * *',
        minReplicas: { [P]: 2 },
        placeholders: { precise: 0 },
      },
    ]);
  });

  it('shares the longest lead of each kind across roles, so one slot raises at two minutes', () => {
    // The BFF (pool, pod start 60 s): pods 90 s = 2 minutes ahead, nodes 330 s = 6. Geo (no pool, pod start
    // 20 s): 290 s = 5 minutes alone, 6 with the BFF's nodes. Both peak at 18:00.
    const two: Capacity = {
      version: 1,
      roles: {
        [P]: { ...capacity.roles[P]!, podStartSeconds: 60 },
        geo: { ...capacity.roles.geo!, podStartSeconds: 20 },
      },
    };
    const { podStartS: _drop, ...noOverride } = base;
    const plan = learnPlan(
      [...history('2026-03-02', 1, dinner), ...history('2026-03-02', 1, (w, m) => 3 * dinner(w, m), 'geo')],
      two,
      {
        ...noOverride,
        bounds: { [P]: { minReplicas: 2, maxReplicas: 20 }, geo: { minReplicas: 2, maxReplicas: 20 } },
        pools: { precise: P },
      },
    );
    expect(plan.roles.map((r) => [r.role, r.leadPodMinutes, r.leadTotalMinutes])).toEqual([
      [P, 2, 6],
      ['geo', 6, 6],
    ]);
    expect(plan.schedules.map((s) => [s.schedule, s.minReplicas, s.placeholders])).toEqual([
      // Geo's pods and the BFF's nodes at 17:54, the BFF's pods at 17:58 and its ramp room for a slot.
      ['54 17 * * *', { [P]: 2, geo: 8 }, { precise: 6 }],
      ['58 17 * * *', { [P]: 8, geo: 8 }, { precise: 6 }],
      ['13 18 * * *', { [P]: 8, geo: 8 }, { precise: 0 }],
      ['0 20 * * *', { [P]: 2, geo: 2 }, { precise: 0 }],
    ]);
  });

  it('gives a role without a pool its whole lead on minReplicas', () => {
    const plan = learnPlan(history('2026-03-02', 1, dinner), capacity, { ...base, nodeDelayS: 1200 });
    expect(plan.schedules.map(when)).toEqual(['38 17 * * *', '0 20 * * *']);
    expect(plan.schedules.every((s) => s.placeholders === undefined)).toBe(true);
  });
});

describe('day boundaries', () => {
  // A full week; only Monday has traffic from 00:00 to 01:00.
  const mondayNight = history('2026-03-01', 7, (w, m) => (w === 1 && m < 60 ? 8000 : 1000));

  it('moves a raise needed at Monday 00:00 with a 30-minute lead to Sunday 23:30, and lowers on Monday', () => {
    // Pod start 1,530 s: 1,530 + 240 + 30 = 1,800 s, 30 minutes.
    const plan = learnPlan(mondayNight, capacity, { ...base, podStartS: 1530 });
    expect(plan.schedules).toEqual([
      { name: 'mo-0100-down', schedule: '0 1 * * 1', minReplicas: { [P]: 2 } },
      { name: 'su-2330-up', schedule: '30 23 * * 0', minReplicas: { [P]: 8 } },
    ]);
  });

  it('moves a raise needed at Monday 00:15 with a 35-minute lead to Sunday 23:40', () => {
    // Traffic from Monday 00:15 to 01:00; pod start 1,830 s: 1,830 + 240 + 30 = 2,100 s, 35 minutes.
    const plan = learnPlan(
      history('2026-03-01', 7, (w, m) => (w === 1 && m >= 15 && m < 60 ? 8000 : 1000)),
      capacity,
      { ...base, podStartS: 1830 },
    );
    expect(plan.schedules.map((s) => [s.name, s.schedule])).toEqual([
      ['mo-0100-down', '0 1 * * 1'],
      ['su-2340-up', '40 23 * * 0'],
    ]);
  });

  it('rounds a lead that is not whole minutes down to the minute across midnight', () => {
    // Pod start 660 s: 660 + 240 + 30 = 930 s, 15.5 minutes: Sunday 23:44 (23:44:30 is no cron minute).
    const plan = learnPlan(mondayNight, capacity, { ...base, podStartS: 660 });
    expect(plan.schedules.map(when)).toEqual(['0 1 * * 1', '44 23 * * 0']);
  });

  it('moves a raise needed on Sunday 00:00 back to Saturday night (the week wraps)', () => {
    const plan = learnPlan(
      history('2026-03-01', 7, (w, m) => (w === 0 && m < 60 ? 8000 : 1000)),
      capacity,
      { ...base, podStartS: 660 },
    );
    expect(plan.schedules.map((s) => [s.name, s.schedule])).toEqual([
      ['su-0100-down', '0 1 * * 0'],
      ['sa-2344-up', '44 23 * * 6'],
    ]);
  });
});

describe('Asia/Seoul, without daylight saving', () => {
  // Five weeks across the US (2026-03-08) and EU (2026-03-29) clock changes: 18:00 in Seoul stays 09:00 UTC.
  const weeks = history('2026-03-01', 35, dinner);

  it('keeps the peak at 18:00 every day of a history across other zones’ clock changes', () => {
    const plan = learnPlan(weeks, capacity, base);
    expect(plan.offsetS).toBe(9 * 3600);
    expect(plan.schedules.map(when)).toEqual(['54 17 * * *', '0 20 * * *']);
  });

  it('refuses a zone whose offset changes, where 18:00 would be two instants', () => {
    expect(() => learnPlan(weeks, capacity, { ...base, timeZone: 'America/New_York' })).toThrow(
      /changes its UTC offset/,
    );
  });
});

describe('collapsing equal slots', () => {
  it('makes one schedule per change, grouping the weekdays that change alike', () => {
    // Saturday's dinner needs 12 pods, the other days' 8; every day drops back to 2 at 20:00.
    const plan = learnPlan(
      history('2026-03-01', 7, (w, m) => (m >= 18 * 60 && m < 20 * 60 ? (w === 6 ? 12000 : 8000) : 1000)),
      capacity,
      base,
    );
    expect(plan.schedules).toEqual([
      { name: 'sumotuwethfr-1754-up', schedule: '54 17 * * 0-5', minReplicas: { [P]: 8 } },
      { name: 'sa-1754-up', schedule: '54 17 * * 6', minReplicas: { [P]: 12 } },
      { name: 'daily-2000-down', schedule: '0 20 * * *', minReplicas: { [P]: 2 } },
    ]);
  });

  it('writes one daily schedule when nothing ever changes', () => {
    const plan = learnPlan(
      history('2026-03-02', 1, () => 1000),
      capacity,
      base,
    );
    expect(plan.schedules).toEqual([
      { name: 'daily-0000-set', schedule: '0 0 * * *', minReplicas: { [P]: 2 } },
    ]);
  });

  it('shares one profile across a day group', () => {
    // Monday peaks at 12,000, Tuesday to Friday at 8,000: alone, Monday gets its own raise; in a mon-fri
    // group with q = 1, all five take Monday's.
    const rate = (w: number, m: number) =>
      m >= 18 * 60 && m < 20 * 60 ? (w === 1 ? 12000 : w >= 2 && w <= 5 ? 8000 : 1000) : 1000;
    const h = history('2026-03-01', 7, rate);
    const each = learnPlan(h, capacity, { ...base, quantile: 1 });
    expect(each.schedules.filter((s) => s.name.endsWith('-up')).map(when)).toEqual([
      '54 17 * * 1',
      '54 17 * * 2-5',
    ]);
    const grouped = learnPlan(h, capacity, {
      ...base,
      quantile: 1,
      dayGroups: parseDayGroups('mon-fri,sat+sun'),
    });
    expect(grouped.schedules.filter((s) => s.name.endsWith('-up'))).toEqual([
      { name: 'weekdays-1754-up', schedule: '54 17 * * 1-5', minReplicas: { [P]: 12 } },
    ]);
  });
});

describe('quantile across the weeks', () => {
  // Four weeks; Monday's 18:00 slot peaks at 1,000, 2,000, 3,000, 4,000 rps in weeks 1-4, 100 rps elsewhere.
  const h = history('2026-03-01', 28, (w, m, d) =>
    w === 1 && m >= 18 * 60 && m < 18 * 60 + 15 ? 1000 * (1 + Math.floor(d / 7)) : 100,
  );
  const monday1800 = 1 * 96 + 72;
  const opts: PlanOptions = { ...base, bounds: { [P]: { minReplicas: 1, maxReplicas: 20 } } };

  it.each([
    [0.5, 'linear', 2500, 3],
    [0.5, 'nearest-rank', 2000, 2],
    [0.95, 'linear', 3850, 4],
    [0.95, 'nearest-rank', 4000, 4],
    [0.25, 'linear', 1750, 2],
  ] as const)('q %s %s: %i rps, %i replicas', (q, method, rps, replicas) => {
    const plan = learnPlan(h, capacity, { ...opts, quantile: q, method });
    expect(plan.roles[0]!.quantileRps[monday1800]).toBeCloseTo(rps, 9);
    expect(plan.roles[0]!.required[monday1800]).toBe(replicas);
    // Tuesday's 18:00 never peaked.
    expect(plan.roles[0]!.required[2 * 96 + 72]).toBe(1);
  });

  it('applies the headroom before rounding up', () => {
    const plan = learnPlan(h, capacity, { ...opts, quantile: 1, headroom: 1.2 });
    // 4,000 / 1,000 x 1.2 = 4.8 -> 5
    expect(plan.roles[0]!.required[monday1800]).toBe(5);
    // 15,000 / 300 x 1.1 is 55.00000000000001 in doubles: 55 replicas, not 56.
    const flat = learnPlan(
      history('2026-03-02', 1, () => 15_000),
      { version: 1, roles: { [P]: { ...capacity.roles[P]!, rpsPerPod: 300 } } },
      { ...opts, headroom: 1.1, bounds: { [P]: { minReplicas: 1, maxReplicas: 100 } } },
    );
    expect(flat.roles[0]!.required[0]).toBe(55);
  });
});

describe('floor, ceiling and what cannot be planned', () => {
  it('keeps the floor at night and the HPA maximum at the peak, saying so', () => {
    const plan = learnPlan(history('2026-03-02', 1, dinner), capacity, {
      ...base,
      min: 3,
      bounds: { [P]: { minReplicas: 2, maxReplicas: 5 } },
    });
    expect(plan.schedules.map((s) => s.minReplicas[P])).toEqual([5, 3]);
    expect(plan.warnings.join('\n')).toMatch(
      /56 slot\(s\) of the week need up to 8 replicas, above the HPA's maxReplicas 5/,
    );
  });

  it('leaves out days covered only in part, and refuses a history without a whole day', () => {
    // A whole Monday, plus Tuesday 00:00 alone (a query_range export whose end is inclusive).
    const monday = history('2026-03-02', 1, dinner);
    const plan = learnPlan(
      [...monday, { t: seoulMidnight('2026-03-03'), role: P, rps: 50_000 }],
      capacity,
      base,
    );
    expect(plan.schedules.map(when)).toEqual(['54 17 * * *', '0 20 * * *']);
    expect(plan.warnings.join('\n')).toMatch(/left out 1 day\(s\) with slots without samples: 2026-03-03/);
    const half = monday.filter((s) => s.t < seoulMidnight('2026-03-02') + 12 * 3600);
    expect(() => learnPlan(half, capacity, base)).toThrow(/no whole day in Asia\/Seoul/);
  });

  it('holds a coarse sample over the slots until the next one', () => {
    // 30-minute samples, 15-minute slots: both slots of each half hour get the sample's rate.
    const start = seoulMidnight('2026-03-02');
    const coarse = Array.from({ length: 48 }, (_, i) => ({
      t: start + i * 1800,
      role: P,
      rps: i === 36 ? 8000 : 1000,
    }));
    const peaks = slotPeaks(coarse, 9 * 3600, 900);
    const day = Math.floor((start + 9 * 3600) / 86400);
    expect(peaks.get(day * 96 + 72)).toBe(8000); // 18:00
    expect(peaks.get(day * 96 + 73)).toBe(8000); // 18:15
    expect(peaks.get(day * 96 + 74)).toBe(1000); // 18:30
    expect(peaks.size).toBe(96);
  });

  it('needs a capacity for every role of the history, and skips a role without an HPA', () => {
    const both = [
      ...history('2026-03-02', 1, dinner),
      ...history('2026-03-02', 1, dinner, 'vendor-bff-admin'),
    ];
    expect(() => learnPlan(both, capacity, base)).toThrow(
      /has vendor-bff-admin but the capacity file does not/,
    );
    const withAdmin: Capacity = {
      version: 1,
      roles: {
        ...capacity.roles,
        'vendor-bff-admin': { rpsPerPod: 300, cpuAtCapacityPercent: 100, maxCpuPercent: 100 },
      },
    };
    const plan = learnPlan(both, withAdmin, base);
    expect(plan.roles.map((r) => r.role)).toEqual([P]);
    expect(plan.warnings.join('\n')).toMatch(
      /vendor-bff-admin: in the history, but the release gives it no HPA/,
    );
    expect(() => learnPlan(history('2026-03-02', 1, dinner, 'vendor-bff-admin'), withAdmin, base)).toThrow(
      InputError,
    );
  });

  it.each([
    ['quantile 0', { quantile: 0 }],
    ['headroom 0', { headroom: 0 }],
    ['slot 20', { slotMinutes: 20 as 15 }],
    ['a negative node delay', { nodeDelayS: -1 }],
    ['min 0', { min: 0 }],
  ])('refuses %s', (_why, bad) => {
    expect(() => learnPlan(history('2026-03-02', 1, dinner), capacity, { ...base, ...bad })).toThrow(
      InputError,
    );
  });
});

describe('schedule names and day groups', () => {
  it('names days, time and direction within the chart’s limits', () => {
    expect(scheduleName([0, 1, 2, 3, 4, 5, 6], 17 * 60 + 45, 'up')).toBe('daily-1745-up');
    expect(scheduleName([5, 1, 2, 3, 4], 600, 'down')).toBe('weekdays-1000-down');
    expect(scheduleName([6, 0], 0, 'set')).toBe('weekend-0000-set');
    expect(scheduleName([0, 1, 2, 4, 5, 6], 1439, 'down')).toBe('sumotuthfrsa-2359-down');
  });

  it('reads day groups', () => {
    expect(parseDayGroups('each')).toHaveLength(7);
    expect(parseDayGroups('all')).toEqual([[0, 1, 2, 3, 4, 5, 6]]);
    expect(parseDayGroups('mon-fri,sat+sun')).toEqual([
      [1, 2, 3, 4, 5],
      [6, 0],
    ]);
    // A range runs forward through the week; days not named stay on their own.
    expect(parseDayGroups('fri-mon')).toEqual([[5, 6, 0, 1], [2], [3], [4]]);
    expect(() => parseDayGroups('mon-fri,fri')).toThrow(/fri is in two groups/);
    expect(() => parseDayGroups('monday')).toThrow(/not a day/);
  });
});

describe('the output fits the suite chart', () => {
  const schema = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../../../charts/suite/values.schema.json'), 'utf8'),
  );
  const item = schema.properties.prescale.properties.schedules.items as {
    properties: Record<
      string,
      {
        pattern?: string;
        maxLength?: number;
        properties?: Record<string, { minimum: number; maximum: number }>;
        additionalProperties?: { minimum: number; maximum: number };
      }
    >;
    required: string[];
  };

  it('validates against charts/suite/values.schema.json, names and CronJob names within their limits', () => {
    const h = mealPeakHistory('2026-03-02', 14, {
      [P]: 12000,
      'vendor-bff-rough': 3000,
      geo: 15000,
      'ml-proxy': 9000,
    });
    const bounds = {
      [P]: { minReplicas: 2, maxReplicas: 20 },
      'vendor-bff-rough': { minReplicas: 2, maxReplicas: 20 },
      geo: { minReplicas: 2, maxReplicas: 10 },
      'ml-proxy': { minReplicas: 2, maxReplicas: 10 },
    };
    const plan = learnPlan(h, capacity, {
      ...base,
      headroom: 1.2,
      nodeDelayS: 1200,
      bounds,
      pools: { precise: P, rough: 'vendor-bff-rough' },
    });
    expect(plan.schedules.length).toBeGreaterThan(10);
    const names = new Set<string>();
    for (const s of plan.schedules) {
      for (const k of item.required) expect(s).toHaveProperty(k);
      for (const k of Object.keys(s)) expect(Object.keys(item.properties)).toContain(k);
      expect(s.name).toMatch(new RegExp(item.properties.name!.pattern!));
      expect(s.name.length).toBeLessThanOrEqual(item.properties.name!.maxLength!);
      expect(`eta-prescale-${s.name}`.length).toBeLessThanOrEqual(52);
      expect(s.schedule).toMatch(new RegExp(item.properties.schedule!.pattern!));
      expect(() => parseCron(s.schedule)).not.toThrow();
      const mins = item.properties.minReplicas!.properties!;
      for (const [id, n] of Object.entries(s.minReplicas)) {
        expect(Object.keys(mins)).toContain(id);
        expect(Number.isInteger(n) && n >= mins[id]!.minimum && n <= mins[id]!.maximum).toBe(true);
        expect(n).toBeLessThanOrEqual(bounds[id as keyof typeof bounds].maxReplicas);
      }
      for (const n of Object.values(s.placeholders ?? {})) {
        const r = item.properties.placeholders!.additionalProperties!;
        expect(Number.isInteger(n) && n >= r.minimum && n <= r.maximum).toBe(true);
      }
      expect(names.has(s.name)).toBe(false);
      names.add(s.name);
    }
  });
});
