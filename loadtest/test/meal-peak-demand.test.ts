import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  csvText,
  deriveDemandCurve,
  orderTimeSlots,
  parseDemandCurve,
  planDay,
  slotLabel,
  slotOf,
  smoothCircular,
  SLOTS_PER_DAY,
  toShares,
} from '../lib/meal-peak/demand.ts';

const ROOT = join(import.meta.dirname, '..', '..');

// The dataset's shape in miniature: CRLF, trailing spaces, the `NaN ` marker, the column typo.
const HEADER = 'ID,Order_Date,Time_Orderd,Time_Order_picked,City';
const row = (id: number, time: string) => `0x${id.toString(16)} ,19-03-2022,${time},12:00:00,Urban `;
const FIXTURE = [
  HEADER,
  row(1, '11:30:00'),
  row(2, '11:44:59'),
  row(3, '11:45:00'),
  row(4, '19:10:00'),
  row(5, '19:20:00'),
  row(6, '19:25:00'),
  row(7, '00:00:00'),
  row(8, '23:55:00'),
  row(9, 'NaN '),
  row(10, ''),
  row(11, '25:00:00'),
  row(12, 'noon'),
  '0xd ,19-03-2022,19:30:00', // too few fields
  '',
].join('\r\n');

describe('meal-peak demand curve: order times per 15-minute slot', () => {
  it('counts orders by the slot of their time, and counts and drops missing and invalid rows', () => {
    const { counts, rows } = orderTimeSlots(FIXTURE);
    expect(counts).toHaveLength(SLOTS_PER_DAY);
    expect(rows).toEqual({ total: 13, missing: 2, invalid: 3, used: 8 });
    const at = (hhmm: string) => counts[slotOf(hhmm)];
    expect(at('11:30')).toBe(2); // 11:30:00 and 11:44:59
    expect(at('11:45')).toBe(1);
    expect(at('19:00')).toBe(1); // 19:10
    expect(at('19:15')).toBe(2); // 19:20, 19:25
    expect(at('00:00')).toBe(1);
    expect(at('23:45')).toBe(1);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(rows.used);
  });

  it('refuses a file without the order-time column', () => {
    expect(() => orderTimeSlots('ID,Order_Date\r\n1,2\r\n')).toThrow(/Time_Orderd/);
  });

  it('reads the CSV gzipped or plain', () => {
    expect(csvText(gzipSync(FIXTURE))).toBe(FIXTURE);
    expect(csvText(Buffer.from(FIXTURE))).toBe(FIXTURE);
  });

  it("smoothing removes an hourly ripple (the five-minute grid's) exactly and keeps the total", () => {
    // A flat day with every hour's first slot two thirds of the others: the grid without :05.
    const rippled = Array.from({ length: SLOTS_PER_DAY }, (_, i) => (i % 4 === 0 ? 20 : 30));
    const smooth = smoothCircular(rippled);
    for (const v of smooth) expect(v).toBeCloseTo(27.5, 10);
    const spike = Array.from({ length: SLOTS_PER_DAY }, (_, i) => (i === 0 ? 8 : 0));
    const spread = smoothCircular(spike);
    // Circular: the midnight spike spreads to 23:30 and 23:45 as well as 00:15 and 00:30.
    expect([spread[94], spread[95], spread[0], spread[1], spread[2]]).toEqual([1, 2, 2, 2, 1]);
    expect(spread.reduce((a, b) => a + b, 0)).toBeCloseTo(8, 10);
  });

  it('derives shares that sum to 1 with the source and method stated', () => {
    const c = deriveDemandCurve(FIXTURE, { file: 'fixture' });
    expect(c.share).toHaveLength(SLOTS_PER_DAY);
    expect(c.share.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    expect(c.counts[slotOf('19:15')]).toBe(2);
    expect(c.rows.missing).toBe(2);
    expect(c.method).toMatch(/NaN/);
    expect(c.mapping).toMatch(/Asia\/Seoul/);
    expect(() => parseDemandCurve(c)).not.toThrow();
    expect(() => toShares(new Array(SLOTS_PER_DAY).fill(0))).toThrow(/no orders/);
  });

  it('rejects a curve file that is not 96 shares summing to 1', () => {
    const c = deriveDemandCurve(FIXTURE, {});
    expect(() => parseDemandCurve({ ...c, share: c.share.slice(1) })).toThrow(/96/);
    expect(() => parseDemandCurve({ ...c, share: c.share.map((s) => s * 2) })).toThrow(/sum/);
    expect(() => parseDemandCurve({ ...c, format: 'other' })).toThrow(/format/);
  });

  // Only where the shared dataset is mounted (never committed): the committed curve is what it derives.
  it.skipIf(!existsSync('/work/shared/data/food-delivery-india/orders-train.csv.gz'))(
    'the committed curve is the one the dataset derives',
    () => {
      const committed = parseDemandCurve(
        JSON.parse(readFileSync(join(ROOT, 'loadtest', 'meal-peak', 'demand-curve.json'), 'utf8')),
      );
      const fresh = deriveDemandCurve(
        csvText(readFileSync('/work/shared/data/food-delivery-india/orders-train.csv.gz')),
        committed.source,
      );
      expect(fresh.counts).toEqual(committed.counts);
      expect(fresh.share).toEqual(committed.share);
      expect(fresh.rows).toEqual(committed.rows);
    },
  );
});

describe('meal-peak day plan: slots, compression and rates', () => {
  // Two levels: the evening slots at 4, lunch at 2, a trough at 1, night 0.
  const levels = Array.from({ length: SLOTS_PER_DAY }, (_, i) =>
    i >= 68 ? 4 : i >= 44 && i < 48 ? 2 : i >= 32 ? 1 : 0,
  );
  const share = toShares(levels);

  it('compresses 15 minutes into 900 s / speed and lays the slots end to end', () => {
    const plan = planDay(share, { peakRate: 400, speed: 432, floor: 0.05 });
    expect(plan.slotMs).toBeCloseTo(900_000 / 432, 9);
    expect(plan.dayMs).toBeCloseTo(200_000, 6);
    expect(plan.slots).toHaveLength(96);
    plan.slots.forEach((s, k) => {
      expect(s.index).toBe(k);
      expect(s.startMs).toBeCloseTo(k * plan.slotMs, 6);
      expect(s.label).toBe(slotLabel(k));
    });
    expect(plan.slots[73]!.label).toBe('18:15');
  });

  it('offers the peak rate in the busiest slot, scales the others and lifts empty slots to the floor', () => {
    const plan = planDay(share, { peakRate: 400, speed: 432, floor: 0.05 });
    expect(plan.slots[70]!.rate).toBe(400);
    expect(plan.slots[45]!.rate).toBe(200);
    expect(plan.slots[40]!.rate).toBe(100);
    expect(plan.slots[10]!.rate).toBe(20); // no orders: 5 % of the peak
    expect(plan.slots[10]!.relative).toBe(0);
    // Requests = rate x real slot length, rounded as the generator rounds.
    expect(plan.slots[70]!.requests).toBe(Math.round((400 * 900) / 432));
    expect(plan.requests).toBe(plan.slots.reduce((a, s) => a + s.requests, 0));
  });

  it('runs only the slots asked for, the first starting at 0', () => {
    const plan = planDay(share, {
      peakRate: 100,
      speed: 900,
      floor: 0.1,
      fromSlot: slotOf('17:00'),
      toSlot: slotOf('18:45'),
    });
    expect(plan.slots.map((s) => s.label)).toEqual([
      '17:00',
      '17:15',
      '17:30',
      '17:45',
      '18:00',
      '18:15',
      '18:30',
      '18:45',
    ]);
    expect(plan.slots[0]!.startMs).toBe(0);
    expect(plan.slotMs).toBe(1000);
    expect(plan.dayMs).toBe(8000);
  });

  it('refuses plans that cannot run', () => {
    expect(() => planDay(share, { peakRate: 0, speed: 432, floor: 0.05 })).toThrow(/peak/);
    expect(() => planDay(share, { peakRate: 1, speed: 0, floor: 0.05 })).toThrow(/speed/);
    expect(() => planDay(share, { peakRate: 1, speed: 1, floor: 0 })).toThrow(/floor/);
    expect(() => planDay(share, { peakRate: 1, speed: 1, floor: 0.1, fromSlot: 50, toSlot: 10 })).toThrow(
      /range/,
    );
    expect(() => planDay(share.slice(1), { peakRate: 1, speed: 1, floor: 0.1 })).toThrow(/96/);
    expect(() => slotOf('24:00')).toThrow(/HH:MM/);
  });
});
