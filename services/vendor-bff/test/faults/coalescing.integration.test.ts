// Issue 12, "automated tries": a flushed cache under a burst. 1,000 store-list requests at once for 50 keys
// in no cache tier (a cell nobody asked for, its Redis keys deleted) must cost one upstream call per key:
// the rough cache joins every concurrent miss of a key to the one load already running (@eta/cache), so
// Geo sees 50 batch calls, not 1,000. Counted where the calls land: Geo's own request metrics.
//
// Stated here: GEO_TIMEOUT_MS, ML_TIMEOUT_MS and ESTIMATE_BUDGET_MS are raised (2 s, 2 s, 5 s) and
// admission control is off (MAX_IN_FLIGHT=0). A rough answer made while Geo failed is not cached, so on
// a machine busy with the burst a 50 ms Geo timeout would turn into a second call for that key and the
// count would measure the machine; and the burst must reach the cache rather than be shed at 256 in flight.
import { setTimeout as sleep } from 'node:timers/promises';
import { deleteKeysWithPrefix } from '@eta/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOffsetMs, timeBucket } from '../../src/domain/estimate-rough-key.ts';
import { redisUrl } from '../db/support.ts';
import { MANUAL_STORES, spread, startStand, type Answer, type RoughItem, type Stand } from './stand.ts';

let stand: Stand;

/** The shipped ROLE=all default (config.ts ROUGH_TIME_BUCKET_MINUTES), which the stand keeps. */
const BUCKET_MINUTES = 15;

/**
 * Waits until no store's rough-cache time bucket ends within `windowMs`. A bucket that ends during the
 * burst changes that store's key (per-store offsets, so any minute can be one), and the new key is a
 * second compute by design; the burst is timed away from that rather than the count loosened for it.
 */
async function awayFromBucketEnds(storeIds: readonly number[], windowMs: number): Promise<void> {
  const bucketMs = BUCKET_MINUTES * 60_000;
  for (;;) {
    const now = Date.now();
    const nextEnd = Math.min(
      ...storeIds.map(
        (id) =>
          (timeBucket(new Date(now), BUCKET_MINUTES, id) + 1) * bucketMs -
          bucketOffsetMs(id, BUCKET_MINUTES) -
          now,
      ),
    );
    if (nextEnd > windowMs) return;
    await sleep(nextEnd + 100);
  }
}

beforeAll(async () => {
  stand = await startStand({
    tag: 'faults_burst',
    bffEnv: {
      GEO_TIMEOUT_MS: '2000',
      ML_TIMEOUT_MS: '2000',
      ESTIMATE_BUDGET_MS: '5000',
      MAX_IN_FLIGHT: '0',
    },
  });
}, 240_000);

afterAll(async () => {
  await stand?.stop();
});

describe('a flushed cache under a burst', () => {
  it('1,000 concurrent requests for 50 keys: one Geo call and one compute per key, every request answered', async () => {
    await stand.heal();
    const KEYS = 50;
    const REQUESTS = 1_000;
    // A destination cell no other request used (Dongdaemun), and the stand's rough keys gone from Redis.
    const destination = { lat: 37.5744, lng: 127.0396 };
    const redis = new Redis(redisUrl());
    try {
      await deleteKeysWithPrefix(redis, `${stand.prefix}rough-estimates:`);
    } finally {
      redis.disconnect();
    }
    const batchCalls = async () =>
      (await stand.metrics(stand.geo)).sum('http_request_duration_seconds_count', {
        route: '/v1/features/batch',
      });
    const stores = Array.from({ length: KEYS }, (_, k) => MANUAL_STORES + 1 + k);
    await awayFromBucketEnds(stores, 10_000);
    const bffBefore = await stand.metrics();
    const geoBefore = await batchCalls();

    const answers: Answer[] = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        stand.rough([MANUAL_STORES + 1 + (i % KEYS)], { destination, timeoutMs: 10_000 }),
      ),
    );
    const bffAfter = await stand.metrics();
    const geoCalls = (await batchCalls()) - geoBefore;

    for (const a of answers) expect(a.status, JSON.stringify(a.body)).toBe(200);
    const items = answers.flatMap((a) => (a.body as { estimates: RoughItem[] }).estimates);
    expect(items.every((i) => i.source === 'rough' && i.degraded === false)).toBe(true);
    const delta = (name: string, labels: Record<string, string>) =>
      bffAfter.sum(name, labels) - bffBefore.sum(name, labels);
    const computes = delta('cache_computes_total', { cache: 'rough-estimates' });
    const mlCalls = delta('bff_dependency_duration_seconds_count', {
      dependency: 'ml-proxy',
      operation: 'eta-rough',
    });
    console.log(
      `faults/coalescing figures: ${JSON.stringify({
        requests: REQUESTS,
        keys: KEYS,
        geoBatchCalls: geoCalls,
        computes,
        mlEtaRoughCalls: mlCalls,
        ms: spread(answers.map((a) => a.ms)),
      })}`,
    );
    expect(computes).toBe(KEYS);
    expect(geoCalls).toBe(KEYS);
    // eta-rough rows of one turn share a call, so at most one per key.
    expect(mlCalls).toBeGreaterThan(0);
    expect(mlCalls).toBeLessThanOrEqual(KEYS);
  }, 180_000);
});
