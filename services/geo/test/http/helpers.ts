import { Writable } from 'node:stream';
import { parseEnv } from '@eta/config';
import { FeaturesResponse, type FeaturesBatchItem } from '@eta/contracts';
import { expect } from 'vitest';
import { buildApp, type AppDeps, type GeoApp } from '../../src/app.ts';
import { configSchema, type Config } from '../../src/config.ts';
import { DEFAULT_DATA_DIR, loadGeoIndex, type GeoIndex } from '../../src/domain/index.ts';

/** Known places (WGS84), checked against the dong layer in the domain tests. */
export const PLACES = {
  cityHall: { lat: 37.5663, lng: 126.9779 },
  hongikStation: { lat: 37.5572, lng: 126.9245 },
  jamsilStation: { lat: 37.5133, lng: 127.1001 },
  busanStation: { lat: 35.1151, lng: 129.0422 },
} as const;

let shared: Promise<GeoIndex> | undefined;
/** One index per test file: loading is the slow part of building an app, and the index is immutable. */
export function geoIndex(): Promise<GeoIndex> {
  shared ??= loadGeoIndex(DEFAULT_DATA_DIR);
  return shared;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return parseEnv(configSchema, {
    LOG_LEVEL: 'warn',
    // No load shedding (its own tests are in service-kit): admission control sheds on a standing
    // event-loop queue and the event-loop-delay shedder on a loop lagging, both of which a test runner
    // starved of CPU beside other test files can show; a 503 would fail a test about something else.
    MAX_QUEUE_MS: '0',
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Live statistics: a Redis read on a busy machine must not miss the 50 ms production default and be
    // answered `redis-unavailable`; a stopped or refused Redis still fails at once (no offline queue).
    CACHE_L2_TIMEOUT_MS: '2000',
    CACHE_CONNECT_TIMEOUT_MS: '10000',
    ...env,
  });
}

/** Log lines are kept, so a failing test can print them, and otherwise dropped. */
export function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

export async function testApp(
  env: Record<string, string> = {},
  deps: Omit<AppDeps, 'index' | 'logStream'> = {},
): Promise<GeoApp> {
  return buildApp(testConfig(env), { ...deps, index: await geoIndex(), logStream: logSink().stream });
}

/** POSTs a JSON body to `url` and answers the status and the parsed body. */
export async function postJson(app: GeoApp, url: string, payload: unknown) {
  const res = await app.inject({ method: 'POST', url, payload: payload as object });
  return { status: res.statusCode, body: res.json<unknown>() };
}

/**
 * What `/v1/features` answers for one pair: the reference the batch and pairs routes are held to. `live`
 * is sent only when given, so the default is the call without the flag.
 */
export async function singleFeatures(app: GeoApp, origin: unknown, destination: unknown, live?: boolean) {
  const res = await postJson(app, '/v1/features', {
    origin,
    destination,
    ...(live === undefined ? {} : { live }),
  });
  expect(res.status).toBe(200);
  return FeaturesResponse.parse(res.body);
}

/** The features of a batch or pairs item; throws when the item is an error instead. */
export function featuresOf(item: FeaturesBatchItem | undefined) {
  if (item === undefined || !('features' in item))
    throw new Error(`expected features, got ${JSON.stringify(item)}`);
  return item.features;
}
