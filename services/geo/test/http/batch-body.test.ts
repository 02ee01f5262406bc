import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FeaturesBatchRequest } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { PLACES } from './helpers.ts';

const P = PLACES.cityHall;

describe('the batch body schema keeps its shape rule', () => {
  it.each([
    ['both shapes', { origin: P, destination: P, origins: [P], destinations: [P] }, ['destinations']],
    ['a shared point and no list', { destination: P }, ['origins']],
    ['nothing', {}, []],
  ])('%s: one custom issue naming the field', (_case, body, path) => {
    const r = FeaturesBatchRequest.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error?.issues).toEqual([
      expect.objectContaining({
        code: 'custom',
        path,
        message: 'send either { origin, destinations: [...] } or { destination, origins: [...] }',
      }),
    ]);
  });

  it.each([
    ['origin + destinations', { origin: P, destinations: [P] }],
    ['destination + origins', { destination: P, origins: [P] }],
  ])('%s is accepted', (_case, body) => {
    expect(FeaturesBatchRequest.safeParse(body).success).toBe(true);
  });
});

/** V8's gc(), which the test runner does not expose; `type: 'minor'` collects the young generation only. */
function exposeGc(): (opts: { type: 'minor' | 'major'; execution: 'sync' }) => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as ReturnType<typeof exposeGc>;
}

function oldSpaceUsed(): number {
  const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  if (!old) throw new Error('V8 reports no old_space');
  return old.space_used_size;
}

describe('regression: every batch request promoted its parsed body into old space', () => {
  it('leaves a validated body to die young', () => {
    const gc = exposeGc();
    const destinations = Array.from({ length: 200 }, (_, i) => ({ lat: 37.5 + i / 10_000, lng: 127 }));
    const text = JSON.stringify({ origin: P, destinations });
    const validate = () => expect(FeaturesBatchRequest.safeParse(JSON.parse(text)).success).toBe(true);
    for (let i = 0; i < 50; i++) validate();
    gc({ type: 'major', execution: 'sync' });

    const before = oldSpaceUsed();
    const rounds = 100;
    for (let i = 0; i < rounds; i++) {
      validate();
      // What still looks referenced after two young collections is promoted to old space.
      gc({ type: 'minor', execution: 'sync' });
      gc({ type: 'minor', execution: 'sync' });
    }
    // The 200 points parse to about 13 KB, all of which a superRefine kept alive (13.3 KB per parse).
    expect((oldSpaceUsed() - before) / rounds).toBeLessThan(1_000);
  });
});
