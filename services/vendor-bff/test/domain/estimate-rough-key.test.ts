import { describe, expect, it } from 'vitest';
import { roughEntrySize, type CachedRough } from '../../src/domain/estimate.ts';
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

describe('rough cache entry size', () => {
  const jsonBytes = (v: CachedRough) => Buffer.byteLength(JSON.stringify(v));
  // The longest texts a double can have, and values as the model and the features produce them.
  const extremes = [
    -1.2345678901234567e-100,
    -Number.MAX_VALUE,
    -Number.MIN_VALUE,
    -2.2250738585072014e-308,
    -0.000001234567890123456,
    -123456789012345680000,
    0.1 + 0.2,
    -0,
  ];

  it('is never below the JSON the default sizing would measure', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = () => extremes[Math.floor(random() * extremes.length)]!;
    for (let i = 0; i < 2_000; i++) {
      const f = Array.from({ length: Math.floor(random() * 12) }, () => (random() < 0.2 ? null : pick()));
      const value: CachedRough = {
        p10: pick(),
        p50: pick(),
        p90: pick(),
        v: ['12', 'v2-한국', '', '\u0001"\\'][i % 4]!,
        t: pick(),
        ...(i % 5 === 0 ? {} : { f }),
      };
      expect(roughEntrySize(value)).toBeGreaterThanOrEqual(jsonBytes(value));
    }
  });

  it('stays within a small multiple of a typical entry, so the byte budget still means something', () => {
    const value: CachedRough = {
      p10: 21.4,
      p50: 27.93,
      p90: 36.1,
      v: '2',
      t: 11.25,
      f: [3.2, 19, 2, 1, 0, 4],
    };
    expect(roughEntrySize(value)).toBeLessThanOrEqual(4 * jsonBytes(value));
  });
});
