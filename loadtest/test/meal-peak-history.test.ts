import { describe, expect, it } from 'vitest';
import { historyRows, shapeAt } from '../lib/meal-peak/history.ts';

const curve = { slotMinutes: 15, share: Array.from({ length: 96 }, (_, i) => (i === 72 ? 2 : 1)) };
const opts = {
  days: 3,
  start: '2026-11-05',
  peak: 1000,
  floor: 0.05,
  weekend: 1.5,
  seed: 7,
  lastDayFactor: 1,
};

describe('meal-peak traffic history', () => {
  it('interpolates the curve between slot centres, relative to its highest slot, floored', () => {
    expect(shapeAt(curve, 72 * 15 + 7.5, 0.05)).toBeCloseTo(1); // centre of the peak slot
    expect(shapeAt(curve, 71 * 15 + 7.5, 0.05)).toBeCloseTo(0.5); // centre of a plain slot
    expect(shapeAt(curve, 72 * 15, 0.05)).toBeCloseTo(0.75); // halfway between the two centres
    expect(shapeAt({ slotMinutes: 15, share: curve.share.map((s, i) => (i === 72 ? s : 0)) }, 0, 0.05)).toBe(
      0.05,
    );
  });

  it('writes one row per minute per role, Seoul time, with precise and rough in the mix and Geo their sum', () => {
    const rows = [...historyRows(curve, opts)];
    expect(rows).toHaveLength(3 * 1440 * 5);
    expect(rows[0]).toMatch(/^2026-11-05T00:00:00\+09:00,vendor-bff-precise,/);
    const at = (i: number) => Number(rows[i]!.split(',')[2]);
    expect(at(3) / (at(0) + at(1))).toBeCloseTo(1, 2); // geo = precise + rough
    expect(at(1) / at(0)).toBeCloseTo(0.6 / 0.395, 2);
  });

  it('makes Friday to Sunday busier by the weekend factor, and is the same for a seed', () => {
    const rows = [...historyRows(curve, opts)]; // Thu, Fri, Sat
    const dayTotal = (d: number) =>
      rows
        .slice(d * 7200, (d + 1) * 7200)
        .reduce((n, r) => n + (r.includes(',geo,') ? Number(r.split(',')[2]) : 0), 0);
    expect(dayTotal(1) / dayTotal(0)).toBeGreaterThan(1.3);
    expect(dayTotal(1) / dayTotal(0)).toBeLessThan(1.7);
    expect([...historyRows(curve, opts)]).toEqual(rows);
  });
});
