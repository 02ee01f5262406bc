import { describe, expect, it } from 'vitest';
import { bucketOffsetMs, timeBucket } from '../../src/domain/estimate-rough-key.ts';

const MIN = 15;
const LENGTH_S = MIN * 60;
const t0 = Date.UTC(2026, 11, 6, 11, 0, 0); // 20:00 in Seoul, a quarter-hour boundary

describe('rough cache time buckets', () => {
  it("a store's bucket is the bucket length long: it changes exactly once per length", () => {
    for (const storeId of [1, 42, 4999]) {
      let changes = 0;
      let prev = timeBucket(new Date(t0), MIN, storeId);
      for (let s = 1; s <= LENGTH_S; s++) {
        const b = timeBucket(new Date(t0 + s * 1000), MIN, storeId);
        if (b !== prev) changes++;
        prev = b;
      }
      expect(changes).toBe(1);
    }
  });

  it('stores roll over at different seconds, not together at the wall-clock quarter hour', () => {
    const stores = Array.from({ length: 5000 }, (_, i) => i + 1);
    const rollovers = new Map<number, number>();
    for (const id of stores) {
      const start = timeBucket(new Date(t0), MIN, id);
      for (let s = 1; s <= LENGTH_S; s++) {
        if (timeBucket(new Date(t0 + s * 1000), MIN, id) !== start) {
          rollovers.set(s, (rollovers.get(s) ?? 0) + 1);
          break;
        }
      }
    }
    const counts = [...rollovers.values()];
    expect(counts.reduce((a, b) => a + b, 0)).toBe(stores.length); // every store rolls over once
    // 5000 stores over 900 s: about 5.6 a second; aligned buckets would put all 5000 in one second.
    expect(Math.max(...counts)).toBeLessThanOrEqual(30);
    expect(rollovers.size).toBeGreaterThan(600);
  });

  it('offsets are whole seconds within the bucket and the same for a store every time', () => {
    for (const id of [0, 1, 7, 123456, 2 ** 31 - 1]) {
      const o = bucketOffsetMs(id, MIN);
      expect(o % 1000).toBe(0);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(LENGTH_S * 1000);
      expect(bucketOffsetMs(id, MIN)).toBe(o);
    }
  });
});
