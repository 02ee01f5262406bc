import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FeaturesBatchRequest } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import { FeaturesBatchBody } from '../../src/http/batch-body.ts';
import { PLACES } from './helpers.ts';

const P = PLACES.cityHall;
const KEYS = ['origin', 'destination', 'origins', 'destinations'] as const;

/** Every combination of the four fields present or absent: all that the shape rule looks at. */
const presence = Array.from({ length: 2 ** KEYS.length }, (_, mask) =>
  Object.fromEntries(KEYS.flatMap((k, i) => (mask & (1 << i) ? [[k, k.endsWith('s') ? [P] : P]] : []))),
);

function verdict(schema: typeof FeaturesBatchBody | typeof FeaturesBatchRequest, body: unknown) {
  const r = schema.safeParse(body);
  return r.success ? { data: r.data } : { issues: r.error.issues };
}

describe('FeaturesBatchBody answers every body as the contract FeaturesBatchRequest does', () => {
  it.each(presence.map((b) => [Object.keys(b).join(' + ') || 'nothing', b]))('%s', (_case, body) => {
    expect(verdict(FeaturesBatchBody, body)).toEqual(verdict(FeaturesBatchRequest, body));
  });

  it.each([
    ['a bad shared point', { origin: { lat: 91, lng: 127 }, destinations: [] }],
    ['a bad shared point and no list', { destination: { lat: 37.5 } }],
    ['a list that is not an array', { destination: P, origins: 'x' }],
    ['too many points', { origin: P, destinations: Array.from({ length: 501 }, () => P) }],
    ['not an object', 'x'],
  ])('%s', (_case, body) => {
    expect(verdict(FeaturesBatchBody, body)).toEqual(verdict(FeaturesBatchRequest, body));
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
    const validate = () => expect(FeaturesBatchBody.safeParse(JSON.parse(text)).success).toBe(true);
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
    // The 200 points parse to about 13 KB, all of which the contract schema's superRefine kept alive.
    expect((oldSpaceUsed() - before) / rounds).toBeLessThan(1_000);
  });
});
