// The kafkajs patch (patches/kafkajs@2.2.4.patch, tulios/kafkajs#1751): a connection with nothing to send
// must not re-arm its 1-ms pending-request timer forever. Before the patch every idle connection checked
// its (empty) queue about 1,000 times a second, ~40 ms of CPU a second per client on the two-core machine.
import { createRequire } from 'node:module';
import { createTestKafka, requireEnv, type TestKafka } from '@eta/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProducer, defineTopic, type EventLog, type EventProducer } from '../src/index.ts';

const quiet: EventLog = { debug() {}, info() {}, warn() {}, error() {} };

interface RequestQueueProto {
  checkPendingRequests(this: unknown): void;
}
// The module kafka.ts's kafkajs loads (the same resolution from this package, so the same instance).
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: RequestQueueProto;
};

describe('kafkajs, as patched here', () => {
  let k: TestKafka;
  let producer: EventProducer;
  let checks = 0;
  const original = RequestQueue.prototype.checkPendingRequests;

  beforeAll(async () => {
    RequestQueue.prototype.checkPendingRequests = function (this: unknown) {
      checks += 1;
      original.call(this);
    };
    k = await createTestKafka({ clientId: 'kafkajs-idle-test' });
  });

  afterAll(async () => {
    RequestQueue.prototype.checkPendingRequests = original;
    await producer?.close();
    await k?.cleanup();
  });

  it('an idle producer connection does not keep checking an empty request queue', async () => {
    const topic = defineTopic(await k.createTopic('idle'), z.object({ n: z.number() }));
    producer = await createProducer({
      brokers: requireEnv('KAFKA_BROKERS').split(','),
      clientId: 'kafkajs-idle-test',
      log: quiet,
    });
    await producer.publish(topic, { key: 'k', value: { n: 1 } });
    // Let whatever the send itself scheduled run out, then count a whole idle second.
    await new Promise((r) => setTimeout(r, 200));
    const before = checks;
    await new Promise((r) => setTimeout(r, 1_000));
    // Unpatched: one check per fired 1-ms timer, hundreds in this second even on a loaded machine. Patched:
    // none, since nothing is sent (a metadata refresh or two would be a handful).
    expect(checks - before).toBeLessThanOrEqual(5);
  });
});
