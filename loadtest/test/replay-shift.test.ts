// The simulated shift on the real inputs (the shared orders file and the suite's stores and Geo index, as
// replay-plan.test.ts loads them): it changes exactly the orders it names, from the time it names, by the
// factor it names, only after pickup, and the same options give the same run.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readOrdersFile } from '../lib/replay/dataset.ts';
import { orderEvent } from '../lib/replay/messages.ts';
import { parseReplayArgs, parseTimeOfDay } from '../lib/replay/options.ts';
import { daySecond, planReplay, schedule, type Plan } from '../lib/replay/plan.ts';
import { defaultDataPath } from '../lib/replay/replay.ts';
import { applyShift, describeShift, type ShiftOptions } from '../lib/replay/shift.ts';
import { loadWorld } from '../lib/replay/world.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
let plan: Plan;

beforeAll(async () => {
  const [data, world] = await Promise.all([readOrdersFile(defaultDataPath(ROOT)), loadWorld(ROOT)]);
  plan = planReplay(data.orders, world, { seed: 7, runId: 'shift', orders: 600 });
}, 60_000);

const at19 = parseTimeOfDay('t', '19:00');

describe('a simulated shift', () => {
  it('stretches the deliveries of one region class from a time of day on, and nothing else', () => {
    const s: ShiftOptions = { factor: 1.3, fromS: at19, dongs: null, regionClass: 'metropolitan' };
    const { orders, shifted } = applyShift(plan.orders, s);
    expect(orders).toHaveLength(plan.orders.length);
    let counted = 0;
    plan.orders.forEach((before, i) => {
      const after = orders[i]!;
      const applies = before.regionClass === 'metropolitan' && before.daySecond >= daySecond(at19);
      expect(after.shifted, before.orderId).toBe(applies);
      if (!applies) {
        expect(after).toBe(before);
        return;
      }
      counted++;
      expect(after.actualMinutes).toBeCloseTo(before.actualMinutes * 1.3, 2);
      expect(after.minutes.delivered).toBe(after.actualMinutes);
      // The kitchen and the rider's way to it are as they were.
      expect(after.minutes.pickedUp).toBe(before.minutes.pickedUp);
      expect(after.minutes.riderAssigned).toBe(before.minutes.riderAssigned);
      expect({ ...after, actualMinutes: 0, minutes: null, shifted: false }).toEqual({
        ...before,
        actualMinutes: 0,
        minutes: null,
        shifted: false,
      });
    });
    expect(shifted).toBe(counted);
    // The sample has such orders on both sides of 19:00: the test is not vacuous.
    expect(counted).toBeGreaterThan(10);
    expect(plan.orders.some((o) => o.regionClass === 'metropolitan' && o.daySecond < daySecond(at19))).toBe(
      true,
    );
  });

  it('names dongs instead, and the delivered event carries the shifted minutes', () => {
    const dongs = [...new Set(plan.orders.map((o) => o.dongCode))].slice(0, 5);
    const s: ShiftOptions = { factor: 1.5, fromS: parseTimeOfDay('t', '04:00'), dongs, regionClass: null };
    const { orders, shifted } = applyShift(plan.orders, s);
    expect(shifted).toBe(plan.orders.filter((o) => dongs.includes(o.dongCode)).length);
    const sched = schedule(orders, { speed: 60, maxDurationMs: 24 * 3_600_000 });
    const one = sched.orders.find((o) => o.order.shifted)!;
    const delivered = orderEvent('delivered', one, {
      startMs: 0,
      eventId: 'id',
      dongCode: one.order.dongCode,
    });
    expect(delivered).toMatchObject({ type: 'delivered', actualMinutes: one.order.actualMinutes });
    // Half as long again as the file says, to the hundredth of a minute.
    const source = plan.orders.find((o) => o.orderId === one.order.orderId)!;
    expect(one.order.actualMinutes).toBeCloseTo(source.actualMinutes * 1.5, 2);
  });

  it('moves pickup before a delivery a factor below 1 brought forward, as the plan does', () => {
    const s: ShiftOptions = {
      factor: 0.5,
      fromS: parseTimeOfDay('t', '04:00'),
      dongs: null,
      regionClass: 'urban',
    };
    const { orders } = applyShift(plan.orders, s);
    for (const o of orders.filter((x) => x.shifted)) {
      expect(o.minutes.pickedUp).toBeLessThan(o.minutes.delivered);
      expect(o.minutes.riderAssigned).toBeLessThan(o.minutes.pickedUp);
    }
  });

  it('is the same for the same options, and refuses what it cannot mean', () => {
    const s: ShiftOptions = { factor: 1.3, fromS: at19, dongs: null, regionClass: 'urban' };
    expect(applyShift(plan.orders, s)).toEqual(applyShift(plan.orders, s));
    expect(() => applyShift(plan.orders, { ...s, factor: 4 })).toThrow(/factor/);
    expect(() => applyShift(plan.orders, { ...s, dongs: ['1168010100'] })).toThrow(/either/);
    expect(describeShift(s)).toBe(
      'SIMULATED SHIFT on top of the real orders: deliveries to urban dongs take 1.3x as long from 19:00',
    );
  });
});

describe('the shift options', () => {
  it('reads a shift by class or by dongs, the start defaulting to the replay day start', () => {
    const a = parseReplayArgs([
      '--shift-factor',
      '1.3',
      '--shift-class',
      'semi-urban',
      '--shift-from',
      '19:00',
    ]);
    expect(a !== 'help' && a.shift).toEqual({
      factor: 1.3,
      fromS: at19,
      dongs: null,
      regionClass: 'semi-urban',
    });
    const b = parseReplayArgs(['--shift-factor', '1.2', '--shift-dongs', '1168010100, 1168010300']);
    expect(b !== 'help' && b.shift).toEqual({
      factor: 1.2,
      fromS: 4 * 3600,
      dongs: ['1168010100', '1168010300'],
      regionClass: null,
    });
    const none = parseReplayArgs([]);
    expect(none !== 'help' && none.shift).toBeNull();
  });

  it('refuses a shift that names nothing, two things, a bad factor, dong or class', () => {
    expect(() => parseReplayArgs(['--shift-class', 'urban'])).toThrow(/--shift-class needs --shift-factor/);
    expect(() => parseReplayArgs(['--shift-factor', '1.3'])).toThrow(/exactly one/);
    expect(() =>
      parseReplayArgs(['--shift-factor', '1.3', '--shift-class', 'urban', '--shift-dongs', '1168010100']),
    ).toThrow(/exactly one/);
    expect(() => parseReplayArgs(['--shift-factor', '9', '--shift-class', 'urban'])).toThrow(
      /--shift-factor/,
    );
    expect(() => parseReplayArgs(['--shift-factor', '1.3', '--shift-dongs', '11680'])).toThrow(
      /--shift-dongs/,
    );
    expect(() => parseReplayArgs(['--shift-factor', '1.3', '--shift-class', 'rural'])).toThrow(
      /--shift-class/,
    );
  });
});
