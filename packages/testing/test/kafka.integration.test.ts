import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestKafka, type TestKafka } from '../src/index.ts';

describe('createTestKafka', () => {
  let k: TestKafka;

  beforeAll(async () => {
    k = await createTestKafka();
  });

  afterAll(async () => {
    await k?.cleanup();
  });

  it('creates unique topics and deletes them on cleanup', async () => {
    const other = await createTestKafka();
    const t1 = await other.createTopic('testing.topics', { partitions: 3 });
    const t2 = await other.createTopic('testing.topics');
    expect(t1).not.toBe(t2);
    const meta = await k.admin.fetchTopicMetadata({ topics: [t1] });
    expect(meta.topics[0]?.partitions).toHaveLength(3);
    await other.cleanup();
    await other.cleanup();
    // Deletion is asynchronous in the controller; poll rather than assume it is instant, with a cap in
    // time (30 s) that a busy machine does not reach, not a count of tries.
    let remaining: string[] = [t1, t2];
    const giveUpAt = Date.now() + 30_000;
    while (remaining.length > 0 && Date.now() < giveUpAt) {
      const topics = new Set(await k.admin.listTopics());
      remaining = [t1, t2].filter((t) => topics.has(t));
      if (remaining.length > 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(remaining).toEqual([]);
  });
});
