import { describe, expect, it } from 'vitest';
import {
  busyExtraMinutes,
  shownFromManual,
  shownFromModel,
  shownFromRegionDefault,
} from '../../src/domain/estimate-policy.ts';
import { settings } from './estimate-fixtures.ts';

const now = new Date('2026-11-25T12:00:00Z');
const later = (min: number) => new Date(now.getTime() + min * 60_000);
const q = { p10: 14.7, p50: 18.0, p90: 19.2 };

describe('busy mode', () => {
  it('adds its minutes only while until is in the future', () => {
    const s = settings(1, { busy: { extraMinutes: 20, until: later(30) } });
    expect(busyExtraMinutes(s, now)).toBe(20);
    expect(busyExtraMinutes(s, later(30))).toBe(0);
    expect(busyExtraMinutes(s, later(31))).toBe(0);
  });

  it('counts busy minutes as preparation', () => {
    const s = settings(1, { busy: { extraMinutes: 20, until: later(30) } });
    const shown = shownFromManual(s, now);
    expect(shown.etaMinutes).toBe(45);
    expect(shown.components).toEqual({ prepMinutes: 30, travelMinutes: 15 });
    expect(shownFromManual(s, later(45)).etaMinutes).toBe(25);
  });
});

describe('clamps', () => {
  it('bounds the figure and its range by the owner min and max', () => {
    const max = shownFromModel(q, 8, settings(1, { maxShownMinutes: 15 }), now);
    expect(max.etaMinutes).toBe(15);
    expect(max.range.high).toBe(15);
    expect(max.range.low).toBeLessThanOrEqual(15);
    const min = shownFromModel(q, 8, settings(1, { minShownMinutes: 40 }), now);
    expect(min).toMatchObject({ etaMinutes: 40, range: { low: 40, high: 40 } });
  });

  it('applies busy minutes before clamping', () => {
    const s = settings(1, { maxShownMinutes: 30, busy: { extraMinutes: 20, until: later(5) } });
    expect(shownFromModel(q, 8, s, now).etaMinutes).toBe(30);
  });
});

describe('shape of every answer', () => {
  const cases = [
    shownFromModel(q, 8, settings(1), now),
    shownFromModel({ p10: 50, p50: 20, p90: 10 }, 100, settings(1), now),
    shownFromManual(settings(1, { manualPrepMinutes: 0, manualDeliveryMinutes: 7 }), now),
    shownFromRegionDefault('urban', undefined, now, 10),
    shownFromRegionDefault(null, settings(1, { minShownMinutes: 50 }), now, 0),
  ];
  it.each(cases.map((c, i) => [i, c] as const))(
    'case %i: whole minutes, low <= eta <= high, parts sum up',
    (_i, s) => {
      expect(
        Number.isInteger(s.etaMinutes) && Number.isInteger(s.range.low) && Number.isInteger(s.range.high),
      ).toBe(true);
      expect(s.range.low).toBeLessThanOrEqual(s.etaMinutes);
      expect(s.etaMinutes).toBeLessThanOrEqual(s.range.high);
      expect(s.components.prepMinutes + s.components.travelMinutes).toBe(s.etaMinutes);
      expect(s.components.prepMinutes).toBeGreaterThanOrEqual(0);
      expect(s.components.travelMinutes).toBeGreaterThanOrEqual(0);
    },
  );

  it('rounds the model median and widens the range outwards', () => {
    expect(shownFromModel(q, 8, settings(1), now)).toMatchObject({
      etaMinutes: 18,
      range: { low: 14, high: 20 },
    });
  });

  it('splits a model total in proportion to travel and the owner prep time', () => {
    // 18 minutes, travel estimate 8 vs prep 10: 8/18 of it on the road.
    expect(shownFromModel(q, 8, settings(1), now).components).toEqual({ prepMinutes: 10, travelMinutes: 8 });
  });
});
