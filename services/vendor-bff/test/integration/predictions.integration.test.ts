// The prediction log against the real chain and the real broker: Geo and the ML proxy as their own
// processes, the BFF publishing to a `predictions` topic of its own on the Kafka the test command starts
// (KAFKA_TOPIC_PREFIX keeps it apart), read back with @eta/events' consumer (decoded and validated with the
// contract). A precise answer with an orderId is checked field by field against the answer, the model's
// own metadata, Geo's region and the ML proxy asked again with the logged row; a rough answer is one event;
// and with the broker unreachable the answers are the same as with the log off, the drops are counted, and
// events flow again once the broker answers at that address.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { parseEnv } from '@eta/config';
import { PREDICTIONS_TOPIC, prefixedTopic, type PredictionEvent, type RegionBlock } from '@eta/contracts';
import { createConsumer, type EventSubscriber, type IncomingEvent } from '@eta/events';
import type { ServiceApp } from '@eta/service-kit';
import { createTestKafka, type TestKafka, uniqueId, waitForLeaders } from '@eta/testing';
import { freePort } from '@eta/testing/ports';
import { latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { configSchema } from '../../src/config.ts';
import { MemoryCatalog, view } from '../domain/estimate-fixtures.ts';
import { MODEL_REPOSITORY } from '../model-versions.ts';
import { appEnv, GENEROUS_TIMEOUTS } from '../support/app-env.ts';
import { metricValue } from '../support/metrics.ts';
import { startService, type Proc } from './processes.ts';

const SERVICE_TOKEN = 'prediction-integration-shared-token-0123456789';
const auth = { authorization: `Bearer ${SERVICE_TOKEN}` };
/** A Friday, 19:10 in Seoul: the hour and weekday the features must carry. */
const CLOCK = new Date('2026-11-27T10:10:00Z');
const ORDERED_AT = '2026-11-27T19:10:00+09:00';
/** Hongik University station (Mapo): the destination of every call. */
const MAPO = { lat: 37.5572, lng: 126.9245 } as const;

interface ModelMetadata {
  readonly features: { name: string; encoding?: Record<string, number> }[];
}
const metadata = (model: string, version: string): ModelMetadata =>
  JSON.parse(
    readFileSync(new URL(`${model}/${version}/metadata.json`, MODEL_REPOSITORY), 'utf8'),
  ) as ModelMetadata;

async function until(predicate: () => boolean, ms: number, what: () => unknown): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out; saw ${JSON.stringify(what())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let geo: Proc;
let ml: Proc;
let k: TestKafka;
let prefix = '';
let topicName = '';
let consumer: EventSubscriber;
const received: IncomingEvent<PredictionEvent>[] = [];
const apps: ServiceApp[] = [];
const servers: Server[] = [];
const catalog = new MemoryCatalog([view(1), view(2, { autoPrediction: false })]);

beforeAll(async () => {
  [geo, ml, k] = await Promise.all([
    startService('geo'),
    startService('ml-proxy', { MODEL_POLL_INTERVAL_SECONDS: '0', WARMUP_RUNS: '2' }),
    createTestKafka({ clientId: 'bff-predictions-test' }),
  ]);
  prefix = `t${uniqueId()}.`;
  const topic = prefixedTopic(PREDICTIONS_TOPIC, prefix);
  topicName = topic.name;
  await k.admin.createTopics({
    topics: [{ topic: topicName, numPartitions: 3, replicationFactor: 1 }],
    waitForLeaders: false,
  });
  await waitForLeaders(k.admin, topicName, 3);
  consumer = createConsumer({
    brokers: k.brokers,
    clientId: 'bff-predictions-test',
    groupId: `g-${uniqueId()}`,
    log: { debug() {}, info() {}, warn() {}, error() {} },
  });
  consumer.subscribe(topic, (e) => {
    received.push(e);
  });
  await consumer.start();
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  for (const s of servers) s.close();
  await consumer?.close();
  if (topicName !== '') await k.admin.deleteTopics({ topics: [topicName] }).catch(() => undefined);
  await k?.cleanup();
  await Promise.all([geo?.stop(), ml?.stop()]);
});

async function app(env: Record<string, string>): Promise<ServiceApp> {
  const config = parseEnv(
    configSchema,
    appEnv({
      ROLE: 'all',
      GEO_URL: geo.url,
      ML_PROXY_URL: ml.url,
      ...GENEROUS_TIMEOUTS,
      BREAKER_FAILURES: '1000',
      SERVICE_TOKENS: `tests:${SERVICE_TOKEN}`,
      KAFKA_TOPIC_PREFIX: prefix,
      ...env,
    }),
  );
  const a = await buildApp(config, { catalog, now: () => CLOCK });
  apps.push(a);
  const ready = await a.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode, ready.body).toBe(200);
  return a;
}

const post = (a: ServiceApp, url: string, body: Record<string, unknown>, requestId: string) =>
  a.inject({ method: 'POST', url, headers: { ...auth, 'x-request-id': requestId }, payload: body });

const byRequest = (id: string) => received.find((e) => e.value.requestId === id);

describe('vendor-bff prediction log on the real broker', () => {
  it('publishes a precise answer with its orderId: every field as answered, features and quantiles as the model saw and said them', async () => {
    const a = await app({ KAFKA_BROKERS: k.brokers.join(',') });
    const body = {
      storeId: 1,
      destination: MAPO,
      orderedAt: ORDERED_AT,
      orderId: 'ord-it-0001',
      order: { type: 'snack', multipleDeliveries: 1, festival: false },
      rider: { vehicleType: 'motorcycle', vehicleCondition: 2, age: 30, rating: 4.7 },
    };
    const res = await post(a, '/v1/estimates/precise', body, 'req-it-precise');
    expect(res.statusCode, res.body).toBe(200);
    const answer = res.json<{
      storeId: number;
      etaMinutes: number;
      range: { low: number; high: number };
      source: string;
      degraded: boolean;
      modelVersion: string;
    }>();
    expect(answer).toMatchObject({ source: 'model', degraded: false });

    await until(
      () => byRequest('req-it-precise') !== undefined,
      60_000,
      () => received.length,
    );
    const got = byRequest('req-it-precise')!;
    expect(got.key).toBe('ord-it-0001');
    const e = got.value;
    if (e.kind !== 'precise') throw new Error(`expected a precise event, got ${e.kind}`);
    expect(e.eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(e).toMatchObject({
      schemaVersion: 1,
      type: 'prediction',
      occurredAt: CLOCK.toISOString(),
      requestId: 'req-it-precise',
      orderId: 'ord-it-0001',
      storeId: 1,
      destinationCell: latLngToCell(MAPO.lat, MAPO.lng, 9),
      model: { name: 'eta-precise', version: answer.modelVersion },
      shownMinutes: answer.etaMinutes,
      shownRange: answer.range,
      source: 'model',
      degraded: false,
    });

    // The features, by the served version's own metadata (names and codes) and Geo's region for the
    // address: the request's facts, 19 h on a Friday (4) in Seoul, weather and traffic unknown.
    const meta = metadata('eta-precise', answer.modelVersion);
    const code = (name: string, label: string) =>
      meta.features.find((f) => f.name === name)!.encoding![label];
    const region = (await (
      await fetch(`${geo.url}/v1/regions/lookup?lat=${MAPO.lat}&lng=${MAPO.lng}`)
    ).json()) as RegionBlock;
    if (!region.inServiceArea) throw new Error('Mapo is in Seoul');
    expect(Object.keys(e.features!)).toEqual(meta.features.map((f) => f.name));
    const f = e.features!;
    expect(f['distance_km']).toBeGreaterThan(4);
    expect(f['distance_km']).toBeLessThan(6);
    expect([f['hour_of_day'], f['day_of_week']]).toEqual([19, 4]);
    expect(f['region_class']).toBe(code('region_class', region.dong.regionClass.replace('-', '_')));
    expect(f['order_type']).toBe(code('order_type', 'snack'));
    expect([f['weather'], f['road_traffic']]).toEqual([null, null]);
    expect(f['rider_age']).toBe(30);
    expect(f['rider_rating']).toBe(4.7);
    expect(f['vehicle_type']).toBe(code('vehicle_type', 'motorcycle'));
    expect(f['vehicle_condition']).toBe(2);
    expect(f['multiple_deliveries']).toBe(1);
    expect(f['festival']).toBe(code('festival', 'no'));

    // The quantiles are what the model answers for exactly that row: ask the ML proxy again.
    const infer = await fetch(`${ml.url}/v2/models/eta-precise/versions/${answer.modelVersion}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'features', shape: [1, 13], datatype: 'FP32', data: Object.values(f) }],
      }),
    });
    expect(infer.status).toBe(200);
    const outputs = ((await infer.json()) as { outputs: { name: string; data: number[] }[] }).outputs;
    const out = (name: string) => outputs.find((o) => o.name === name)!.data[0];
    expect(e.quantiles).toEqual({ p10: out('p10'), p50: out('p50'), p90: out('p90') });
    // Store 1 has no clamps nor busy mode: the shown figure is the median, rounded.
    expect(answer.etaMinutes).toBe(Math.max(1, Math.round(e.quantiles!.p50)));
  });

  it('publishes one rough event per request, keyed by the request id', async () => {
    const a = await app({ KAFKA_BROKERS: k.brokers.join(',') });
    const res = await post(
      a,
      '/v1/estimates/rough',
      { destination: MAPO, storeIds: [1, 777, 2] },
      'req-it-rough',
    );
    expect(res.statusCode, res.body).toBe(200);
    const { estimates } = res.json<{
      estimates: { storeId: number; etaMinutes?: number; source?: string }[];
    }>();
    await until(
      () => byRequest('req-it-rough') !== undefined,
      60_000,
      () => received.length,
    );
    const got = byRequest('req-it-rough')!;
    expect(got.key).toBe('req-it-rough');
    const e = got.value;
    if (e.kind !== 'rough') throw new Error(`expected a rough event, got ${e.kind}`);
    expect(e.items.map((i) => [i.storeId, i.shownMinutes, i.source])).toEqual(
      estimates.filter((x) => x.source !== undefined).map((x) => [x.storeId, x.etaMinutes, x.source]),
    );
    expect(e.items[0]!.model?.name).toBe('eta-rough');
    expect(Object.keys(e.items[0]!.features!)).toEqual(
      metadata('eta-rough', e.items[0]!.model!.version).features.map((x) => x.name),
    );
    expect(e.items[1]).toMatchObject({ storeId: 2, model: null, features: null, quantiles: null });
  });

  it('with the broker unreachable answers as with the log off and counts the drops; once it answers, events flow', async () => {
    const port = await freePort();
    const down = await app({ KAFKA_BROKERS: `127.0.0.1:${port}`, EVENTS_BUFFER_MAX_EVENTS: '2' });
    const off = await app({ PREDICTION_LOG: 'off' });
    const body = (i: number) => ({
      storeId: 1,
      destination: MAPO,
      orderedAt: ORDERED_AT,
      orderId: `ord-out-${i}`,
    });
    for (let i = 0; i < 6; i++) {
      const [withDown, withOff] = await Promise.all([
        post(down, '/v1/estimates/precise', body(i), `req-out-${i}`),
        post(off, '/v1/estimates/precise', body(i), `req-off-${i}`),
      ]);
      expect(withDown.statusCode, withDown.body).toBe(200);
      expect(withDown.body).toBe(withOff.body);
    }
    // Two wait in the buffer (its bound), four were dropped, none published.
    expect(await metricValue(down, 'events_buffered')).toBe(2);
    expect(await metricValue(down, 'events_dropped_total', { topic: topicName, reason: 'buffer-full' })).toBe(
      4,
    );
    expect(await metricValue(down, 'events_published_total', { topic: topicName })).toBe(0);

    // The broker appears at the address the BFF was given (a pass-through to the real one).
    const [host, brokerPort] = k.brokers[0]!.split(':') as [string, string];
    const server = createServer((client: Socket) => {
      const upstream = connect(Number(brokerPort), host);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end);
      upstream.on('error', end);
    });
    servers.push(server);
    server.listen(port, '127.0.0.1');
    await once(server, 'listening');

    // What the buffer held goes out; then new answers flow.
    await expect
      .poll(() => metricValue(down, 'events_published_total', { topic: topicName }), {
        timeout: 60_000,
        interval: 100,
      })
      .toBe(2);
    const res = await post(down, '/v1/estimates/precise', body(99), 'req-out-99');
    expect(res.statusCode).toBe(200);
    await until(
      () => byRequest('req-out-99') !== undefined,
      60_000,
      () => received.length,
    );
    const outage = received
      .filter((e) => e.value.requestId.startsWith('req-out-'))
      .map((e) => e.value.requestId);
    // The first two answers (what the buffer held) and the new one; across partitions in any order.
    expect(outage.sort()).toEqual(['req-out-0', 'req-out-1', 'req-out-99']);
    expect(await metricValue(down, 'events_dropped_total', { topic: topicName, reason: 'buffer-full' })).toBe(
      4,
    );
  });
});
