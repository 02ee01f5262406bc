/**
 * The event scenarios' own room on a shared broker: a topic prefix no one else uses (the services'
 * KAFKA_TOPIC_PREFIX), the topics they need created with a chosen partition count, and every topic under
 * the prefix deleted afterwards (dead-letter topics a consumer may have made included).
 */
import { createTestKafka, parseBrokers, uniqueId, waitForLeaders, type TestKafka } from '@eta/testing';

/**
 * The value of a backing-service key the scenario cannot run without, or an Error that says how to get
 * it (the scenario then fails; it does not skip, so a missing broker is never mistaken for a figure).
 */
export function requireBacking(
  name: 'KAFKA_BROKERS' | 'DATABASE_URL' | 'REDIS_URL',
  scenario: string,
): string {
  const value = process.env[name]?.trim();
  if (value === undefined || value === '') {
    throw new Error(
      `${scenario} needs ${name}: run it with the backing services' environment, e.g.\n` +
        '  eval "$(scripts/backing-services.sh env)"   (or `up` to start them; docs/runbooks/backing-services.md)',
    );
  }
  return value;
}

/** `bench-<what>-<unique>.`: valid as KAFKA_TOPIC_PREFIX, and shared with nothing. */
export function benchTopicPrefix(what: string): string {
  return `bench-${what}-${uniqueId()}.`;
}

export interface BenchKafka {
  readonly brokers: readonly string[];
  /** Creates each topic with `partitions` partitions and waits until each has a leader. */
  createTopics(names: readonly string[], partitions: number): Promise<void>;
  /** Deletes every topic whose name starts with `prefix`; answers their names. */
  deleteTopicsWithPrefix(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function openBenchKafka(
  brokers: string | readonly string[],
  clientId: string,
): Promise<BenchKafka> {
  const list = typeof brokers === 'string' ? parseBrokers(brokers) : [...brokers];
  const k: TestKafka = await createTestKafka({ brokers: list, clientId });
  return {
    brokers: list,
    async createTopics(names, partitions) {
      await k.admin.createTopics({
        topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
        waitForLeaders: false,
      });
      // A KRaft broker answers UNKNOWN_TOPIC_OR_PARTITION for a moment after the create (see @eta/testing).
      for (const topic of names) await waitForLeaders(k.admin, topic, partitions);
    },
    async deleteTopicsWithPrefix(prefix) {
      if (prefix === '') throw new Error('refusing to delete topics without a prefix');
      const mine = (await k.admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (mine.length > 0) await k.admin.deleteTopics({ topics: mine, timeout: 30_000 });
      return mine;
    },
    close: () => k.cleanup(),
  };
}
