import { describe, expect, it } from 'vitest';
import { computeExpiry, freshness } from '../src/expiry.ts';
import { decodeEnvelope, encodeEnvelope } from '../src/expiry.ts';

describe('computeExpiry', () => {
  const policy = { ttlMs: 10_000, jitter: 0.2, staleMs: 5_000 };

  it('never stretches the TTL: random 0 gives the full TTL, random ~1 shortens it by the jitter fraction', () => {
    expect(computeExpiry(policy, 1_000, () => 0)).toEqual({ freshUntil: 11_000, staleUntil: 16_000 });
    const shortest = computeExpiry(policy, 1_000, () => 0.999_999);
    expect(shortest.freshUntil).toBe(1_000 + 8_000);
    expect(shortest.staleUntil - shortest.freshUntil).toBe(5_000);
  });

  it('spreads TTLs of keys written together across [ttl*(1-jitter), ttl]', () => {
    let seed = 42;
    // A small deterministic LCG, so the spread is reproducible.
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const ttls = Array.from({ length: 1_000 }, () => computeExpiry(policy, 0, random).freshUntil);
    expect(Math.min(...ttls)).toBeGreaterThanOrEqual(8_000);
    expect(Math.max(...ttls)).toBeLessThanOrEqual(10_000);
    // Not all in one instant: the point of jitter.
    expect(new Set(ttls).size).toBeGreaterThan(100);
    expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(1_500);
  });

  it('jitter 0 gives every key the same TTL; out-of-range jitter is clamped', () => {
    expect(computeExpiry({ ...policy, jitter: 0 }, 0, Math.random).freshUntil).toBe(10_000);
    expect(computeExpiry({ ...policy, jitter: 7 }, 0, () => 0.5).freshUntil).toBe(5_000);
  });

  it('classifies fresh, stale and expired at the boundaries', () => {
    const e = { freshUntil: 100, staleUntil: 200 };
    expect(freshness(e, 99)).toBe('fresh');
    expect(freshness(e, 100)).toBe('stale');
    expect(freshness(e, 199)).toBe('stale');
    expect(freshness(e, 200)).toBe('expired');
  });
});

describe('L2 envelope', () => {
  it('round-trips values that themselves contain the separator', () => {
    const payload = encodeEnvelope(1_700_000_000_123, '{"a":"x|y"}');
    expect(decodeEnvelope(payload)).toEqual({ freshUntil: 1_700_000_000_123, encoded: '{"a":"x|y"}' });
  });

  it('rejects payloads not written by the cache', () => {
    expect(decodeEnvelope('plain')).toBeUndefined();
    expect(decodeEnvelope('|{}')).toBeUndefined();
    expect(decodeEnvelope('abc|{}')).toBeUndefined();
  });
});
