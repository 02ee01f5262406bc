// `pnpm replay` end to end against the suite as the run command starts it (loadtest/lib/suite.ts: Geo, the
// ML proxy and the BFF with ROLE=all, its seeded stores and AUTH_DEV_KEYS, the replay minting its own
// credential as the README does) and the real Kafka broker (KAFKA_BROKERS, the test command's): a few
// orders sent both ways at once, through the BFF's `POST /v1/events/orders` (the BFF publishing to a
// topic prefix of its own) and straight to Kafka (another prefix), read back from both topics and compared
// with the plan the library makes for the same options. The BFF's prediction log, on its own topic, must
// hold the checkout estimate of every order under the order's id.
//
// The only relaxations from the run command are the test configs' usual ones (docs/testing.md): no load
// shedding and budgets in seconds, so a busy machine degrades no answer.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OrderEvent, PredictionEvent } from '@eta/contracts';
import { createTestKafka, type TestKafka, uniqueId, waitForLeaders } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readOrdersFile } from '../lib/replay/dataset.ts';
import { parseReplayArgs, type ReplayOptions } from '../lib/replay/options.ts';
import { planReplay, schedule, type Schedule } from '../lib/replay/plan.ts';
import { defaultDataPath } from '../lib/replay/replay.ts';
import type { ReplayReport } from '../lib/replay/report.ts';
import { loadWorld } from '../lib/replay/world.ts';
import { startSuite, type Suite } from '../lib/suite.ts';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const ORDERS = 8;

const TEST_SAFE = { MAX_QUEUE_MS: '0', MAX_EVENT_LOOP_DELAY_MS: '0' };

interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: unknown;
}

let k: TestKafka;
let suite: Suite | undefined;
const viaBff = `t${uniqueId()}.`;
const direct = `t${uniqueId()}.`;
const topics: Record<string, number> = {
  [`${viaBff}orders`]: 3,
  [`${viaBff}predictions`]: 1,
  [`${viaBff}orders.dlq`]: 1,
  [`${viaBff}predictions.dlq`]: 1,
  [`${direct}orders`]: 3,
};
const received: Received[] = [];
let stopConsumer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  k = await createTestKafka({ clientId: 'replay-integration' });
  // Names the services derive from a prefix (createTopic would add a suffix of its own); deleted in afterAll.
  await k.admin.createTopics({
    topics: Object.entries(topics).map(([topic, numPartitions]) => ({
      topic,
      numPartitions,
      replicationFactor: 1,
    })),
    waitForLeaders: false,
  });
  await Promise.all(Object.entries(topics).map(([topic, n]) => waitForLeaders(k.admin, topic, n)));
  // The run command's suite has no Postgres or Redis (embedded PGlite seeded with its 5,000 stores, L1
  // caches); the test command's DATABASE_URL and REDIS_URL would reach the services through this process's
  // environment, which spawnService passes on, and the BFF would read another test's catalogue.
  const saved = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
  delete process.env.DATABASE_URL;
  delete process.env.REDIS_URL;
  try {
    suite = await startSuite({
      root: ROOT,
      extraEnv: {
        geo: TEST_SAFE,
        'ml-proxy': { ...TEST_SAFE, MODEL_DEADLINE_MS: '10000' },
        'vendor-bff': {
          ...TEST_SAFE,
          ESTIMATE_BUDGET_MS: '8000',
          GEO_TIMEOUT_MS: '5000',
          ML_TIMEOUT_MS: '5000',
          KAFKA_BROKERS: k.brokers.join(','),
          KAFKA_TOPIC_PREFIX: viaBff,
          // The BFF's own consumers read the replay back from Kafka (ROLE=all does so only when asked
          // while KAFKA_BROKERS is set), for the live accuracy compared below.
          EVENT_CONSUMERS: 'on',
        },
      },
    });
  } finally {
    Object.assign(process.env, Object.fromEntries(Object.entries(saved).filter(([, v]) => v !== undefined)));
  }
  const consumer = k.kafka.consumer({ groupId: `replay-test-${uniqueId()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: Object.keys(topics), fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      received.push({
        topic,
        partition,
        offset: Number(message.offset),
        key: message.key?.toString() ?? null,
        value: JSON.parse(message.value?.toString() ?? 'null') as unknown,
      });
    },
  });
  stopConsumer = () => consumer.disconnect();
}, 240_000);

afterAll(async () => {
  await stopConsumer?.();
  await suite?.stop();
  await k?.admin.deleteTopics({ topics: Object.keys(topics), timeout: 10_000 }).catch(() => undefined);
  await k?.cleanup();
});

/** A dev-key token as the README mints one (`pnpm -s dev:token ...`), for the run command's BFF. */
async function devToken(args: readonly string[]): Promise<string> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'services', 'vendor-bff', 'src', 'cli', 'dev-token.ts'), ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`dev-token exited ${code}`);
  return stdout.trim();
}

/** Runs `node loadtest/replay.ts` as a user would; resolves with its exit code, report and stderr. */
async function replay(
  args: readonly string[],
): Promise<{ code: number | null; report: ReplayReport; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'loadtest', 'replay.ts'), ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, REPLAY_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  let report: ReplayReport;
  try {
    report = JSON.parse(stdout) as ReplayReport;
  } catch {
    throw new Error(`replay printed no report (exit ${code}):\n${stdout}\n${stderr}`);
  }
  return { code, report, stderr };
}

describe('pnpm replay against the running suite', () => {
  const runId = `it${uniqueId().slice(-8)}`;
  let args: string[];
  let opts: ReplayOptions;
  let plan: Schedule;

  beforeAll(async () => {
    args = [
      ...['--orders', String(ORDERS), '--seed', '3', '--from', '19:00', '--to', '19:30', '--speed', '600'],
      ...['--run-id', runId, '--bff-url', suite!.bff.origin, '--geo-url', suite!.geo.origin],
      ...['--sink', 'http,kafka', '--brokers', k.brokers.join(','), '--topic-prefix', direct],
    ];
    opts = parseReplayArgs(args) as ReplayOptions;
    const [data, world] = await Promise.all([readOrdersFile(defaultDataPath(ROOT)), loadWorld(ROOT)]);
    plan = schedule(planReplay(data.orders, world, opts).orders, opts);
  }, 60_000);

  // The cap covers the run (about 7 s of schedule) and the polls' own caps; it bounds a hang, not speed.
  it(
    'replays the planned orders: every estimate answered, every event accepted by both sinks',
    { timeout: 240_000 },
    async () => {
      expect(plan.orders).toHaveLength(ORDERS);
      const { code, report, stderr } = await replay(args);
      expect(code, `${stderr}\n${JSON.stringify(report.run, null, 1)}`).toBe(0);
      expect(report.plan).toMatchObject({ scheduled: ORDERS, unplaceable: 0 });
      expect(report.geo).toMatchObject({ checked: ORDERS, dongDisagreements: 0, classDisagreements: 0 });
      expect(report.geo!.maxDistanceErrorM).toBeLessThan(1);
      expect(report.run!.estimates).toMatchObject({ sent: ORDERS, failed: 0 });
      expect(report.run!.estimates.answered + report.run!.estimates.degraded).toBe(ORDERS);
      expect(report.run!.events).toEqual([
        expect.objectContaining({ sink: 'http', queued: 4 * ORDERS, accepted: 4 * ORDERS, failed: 0 }),
        expect.objectContaining({ sink: 'kafka', queued: 4 * ORDERS, accepted: 4 * ORDERS, failed: 0 }),
      ]);

      // Both ways end on an `orders` topic: the same events, valid, keyed by order id.
      const onTopic = (topic: string) => received.filter((m) => m.topic === topic);
      await expect
        .poll(() => onTopic(`${viaBff}orders`).length, { timeout: 60_000, interval: 100 })
        .toBe(4 * ORDERS);
      await expect
        .poll(() => onTopic(`${direct}orders`).length, { timeout: 60_000, interval: 100 })
        .toBe(4 * ORDERS);
      const ids = (topic: string) =>
        onTopic(topic)
          .map((m) => OrderEvent.parse(m.value).eventId)
          .sort();
      expect(new Set(ids(`${viaBff}orders`)).size).toBe(4 * ORDERS);
      expect(ids(`${direct}orders`)).toEqual(ids(`${viaBff}orders`));

      for (const topic of [`${viaBff}orders`, `${direct}orders`]) {
        const messages = onTopic(topic).sort((a, b) => a.partition - b.partition || a.offset - b.offset);
        for (const { order, atMs } of plan.orders) {
          const mine = messages.filter((m) => m.key === order.orderId).map((m) => OrderEvent.parse(m.value));
          // One key, one partition: the lifecycle in the order it happened.
          expect(
            mine.map((e) => e.type),
            `${topic} ${order.orderId}`,
          ).toEqual(['created', 'rider-assigned', 'picked-up', 'delivered']);
          for (const e of mine) {
            expect(e).toMatchObject({
              orderId: order.orderId,
              storeId: order.storeId,
              dongCode: order.dongCode,
            });
            expect(e.orderedAt).toBe(mine[0]!.occurredAt);
          }
          // The compressed times, relative to the order's creation, are exactly the plan's.
          const created = Date.parse(mine[0]!.occurredAt);
          expect(mine.map((e) => Date.parse(e.occurredAt) - created)).toEqual([
            0,
            atMs['rider-assigned'] - atMs.created,
            atMs['picked-up'] - atMs.created,
            atMs.delivered - atMs.created,
          ]);
          expect(mine[3]).toMatchObject({ type: 'delivered', actualMinutes: order.actualMinutes });
        }
      }

      // The checkout estimates reached the prediction log under the orders' ids (besides the BFF's own warm-up).
      const precise = () =>
        onTopic(`${viaBff}predictions`)
          .map((m) => PredictionEvent.parse(m.value))
          .flatMap((p) => (p.kind === 'precise' && p.orderId?.startsWith(`${runId}-`) ? [p] : []));
      await expect.poll(() => precise().length, { timeout: 60_000, interval: 100 }).toBe(ORDERS);
      for (const { order } of plan.orders) {
        const mine = precise().filter((p) => p.orderId === order.orderId);
        expect(mine, order.orderId).toHaveLength(1);
        expect(mine[0]!.storeId).toBe(order.storeId);
      }

      // Live accuracy, as the BFF's consumers computed it from the replay, equals an offline computation
      // from the same predictions and the delivered events read back here: per store and Seoul day, the
      // model's p50 (else the shown minutes) against the actual minutes, both in whole thousandths.
      const mm = (x: number) => Math.round(x * 1000);
      const delivered = onTopic(`${viaBff}orders`)
        .map((m) => OrderEvent.parse(m.value))
        .flatMap((e) => (e.type === 'delivered' ? [e] : []));
      const groups = new Map<
        string,
        { storeId: number; date: string; rows: [number, number, number, number][] }
      >();
      for (const d of delivered) {
        const p = precise().find((x) => x.orderId === d.orderId)!;
        const model = p.model !== null && p.quantiles !== null;
        const date = new Date(Date.parse(d.orderedAt) + 9 * 3_600_000).toISOString().slice(0, 10);
        const key = `${d.storeId}/${date}`;
        const g = groups.get(key) ?? { storeId: d.storeId, date, rows: [] };
        g.rows.push([
          mm(model ? p.quantiles!.p50 : p.shownMinutes),
          mm(model ? p.quantiles!.p10 : p.shownRange.low),
          mm(model ? p.quantiles!.p90 : p.shownRange.high),
          mm(d.actualMinutes),
        ]);
        groups.set(key, g);
      }
      const operator = await devToken(['--operator']);
      for (const g of groups.values()) {
        const n = g.rows.length;
        const r = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
        const expected = {
          orders: n,
          maeMinutes: r(g.rows.reduce((s, [p, , , a]) => s + Math.abs(p - a), 0) / n / 1000, 3),
          biasMinutes: r(g.rows.reduce((s, [p, , , a]) => s + (p - a), 0) / n / 1000, 3),
          coverage: r(g.rows.filter(([, lo, hi, a]) => a >= lo && a <= hi).length / n, 4),
        };
        const url = `${suite!.bff.origin}/v1/stores/${g.storeId}/accuracy?date=${g.date}`;
        const day = async () => {
          const res = await fetch(url, { headers: { authorization: `Bearer ${operator}` } });
          return res.status === 200 ? ((await res.json()) as { day: typeof expected }).day : null;
        };
        await expect.poll(async () => (await day())?.orders, { timeout: 60_000, interval: 200 }).toBe(n);
        expect(await day(), url).toEqual(expected);
      }
    },
  );
});
