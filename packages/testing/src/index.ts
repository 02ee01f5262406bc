import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import type { TestBigQuery, TestBigQueryOptions } from './bigquery.ts';

/**
 * Isolated real resources for integration tests. Vitest runs test files in parallel against one
 * Postgres, one Redis and one Kafka, so each file gets its own schema, key prefix and topics, and
 * removes them on cleanup. Servers come from scripts/backing-services.sh via DATABASE_URL, REDIS_URL
 * and KAFKA_BROKERS.
 */

const HOW_TO_START =
  'Integration tests talk to real servers. From the repository root run\n' +
  '  eval "$(scripts/backing-services.sh up)"\n' +
  'which starts PostgreSQL, Redis and Kafka on 127.0.0.1 and exports DATABASE_URL, REDIS_URL and ' +
  'KAFKA_BROKERS, then run the tests again (docs/runbooks/backing-services.md).';

export class MissingEnvError extends Error {
  readonly variable: string;

  constructor(variable: string) {
    super(`${variable} is not set. ${HOW_TO_START}`);
    this.name = 'MissingEnvError';
    this.variable = variable;
  }
}

export type BackingEnv = 'DATABASE_URL' | 'REDIS_URL' | 'KAFKA_BROKERS';

/** Reads an environment variable a test needs; throws a MissingEnvError that says how to set it. */
export function requireEnv(
  name: BackingEnv | (string & {}),
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const value = env[name]?.trim();
  if (!value) throw new MissingEnvError(name);
  return value;
}

/**
 * Reads a value until `ok` holds for it (every `everyMs`), then returns it; throws with the last value
 * read after `timeoutMs`. For tests that wait for a condition instead of racing a deadline.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms; last read ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A short id unique across parallel test files and runs: lowercase letters and digits only, so it is
 * valid unquoted in a Postgres identifier, a Redis key and a Kafka topic name.
 */
export function uniqueId(): string {
  return Date.now().toString(36) + randomBytes(5).toString('hex');
}

const SAFE_BASE = /^[a-z][a-z0-9_]{0,30}$/;

function checkBase(kind: string, base: string, pattern: RegExp): void {
  if (!pattern.test(base)) {
    throw new TypeError(`${kind} base ${JSON.stringify(base)} must match ${pattern.source}`);
  }
}

// ------------------------------------------------------------------------------------------- Postgres

export interface TestSchema {
  /** The schema's name; already the pool's search_path, so plain table names resolve inside it. */
  readonly schema: string;
  readonly pool: pg.Pool;
  /** Ends the pool and drops the schema with everything in it. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface TestSchemaOptions {
  /** Readable part of the schema name, e.g. the package under test. Default `t`. */
  readonly prefix?: string;
  readonly databaseUrl?: string;
  /** Pool size. Small by default: many test files share one server's connection limit. */
  readonly max?: number;
}

/** A fresh Postgres schema for one test file, with a pool whose search_path is that schema. */
export async function createTestSchema(options: TestSchemaOptions = {}): Promise<TestSchema> {
  const prefix = options.prefix ?? 't';
  checkBase('schema prefix', prefix, SAFE_BASE);
  const connectionString = options.databaseUrl ?? requireEnv('DATABASE_URL');
  const schema = `${prefix}_${uniqueId()}`;

  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.end();
  }

  // search_path set at connection start applies to every pooled connection, including ones opened
  // later, which a `SET` after connect would not guarantee.
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 4,
    options: `-c search_path="${schema}"`,
  });

  let cleaned = false;
  return {
    schema,
    pool,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      await pool.end();
      const dropper = new pg.Client({ connectionString });
      await dropper.connect();
      try {
        await dropper.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await dropper.end();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------- Redis

/** A key prefix no other test file uses, e.g. `test:cache:lq3k2x9a1b2c3d4e5:`. */
export function redisKeyPrefix(base = 'test'): string {
  checkBase('redis prefix', base, /^[a-z][a-z0-9_:-]{0,40}$/);
  return `${base.replace(/:+$/, '')}:${uniqueId()}:`;
}

export interface TestRedis {
  /** An ioredis client whose every key is put under `prefix` by ioredis itself. */
  readonly redis: Redis;
  readonly prefix: string;
  /** Deletes every key under the prefix and closes the client. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface TestRedisOptions {
  readonly url?: string;
  /** Base for redisKeyPrefix(). */
  readonly base?: string;
}

function connectRedis(url: string, keyPrefix?: string): Promise<Redis> {
  const client = new Redis(url, {
    lazyConnect: true,
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
    // A missing server must fail the test setup within seconds, not retry for ever.
    retryStrategy: (times) => (times > 3 ? null : 200 * times),
    maxRetriesPerRequest: 3,
  });
  return client.connect().then(
    () => client,
    (err: unknown) => {
      client.disconnect();
      throw new Error(`cannot connect to Redis at ${url}. ${HOW_TO_START}`, { cause: err });
    },
  );
}

export async function createTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const url = options.url ?? requireEnv('REDIS_URL');
  const prefix = redisKeyPrefix(options.base);
  const redis = await connectRedis(url, prefix);
  let cleaned = false;
  return {
    redis,
    prefix,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      redis.disconnect();
      // SCAN's MATCH and the keys it returns are not prefixed by ioredis, so deleting them goes
      // through a plain client; deleting through `redis` would prefix them a second time.
      const raw = await connectRedis(url);
      try {
        await deleteKeysWithPrefix(raw, prefix);
      } finally {
        raw.disconnect();
      }
    },
  };
}

/** Deletes every key that starts with `prefix` (glob characters in it are escaped). Returns the count. */
export async function deleteKeysWithPrefix(raw: Redis, prefix: string): Promise<number> {
  const pattern = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`) + '*';
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await raw.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await raw.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

// ---------------------------------------------------------------------------------------------- Kafka

/** A topic name no other test uses, e.g. `orders.created.test-lq3k2x9a1b2c3d4e5`. */
export function uniqueTopic(base: string): string {
  checkBase('topic', base, /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,180}$/);
  return `${base}.test-${uniqueId()}`;
}

/** Parses KAFKA_BROKERS (`host:port,host:port`). */
export function parseBrokers(value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new TypeError('KAFKA_BROKERS lists no broker');
  return brokers;
}

/** Waits until every partition of `topic` has a leader, polling metadata for up to `timeoutMs`. */
export async function waitForLeaders(
  admin: Admin,
  topic: string,
  partitions: number,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = meta.topics[0]?.partitions ?? [];
      if (found.length === partitions && found.every((p) => p.leader >= 0)) return;
      last = new Error(`${found.length}/${partitions} partitions with a leader`);
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`topic ${topic} had no leaders after ${timeoutMs} ms`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface TestKafka {
  readonly brokers: readonly string[];
  /** A kafkajs client for producers and consumers the test makes (and closes) itself. */
  readonly kafka: Kafka;
  /** Connected admin client. */
  readonly admin: Admin;
  /** Creates a unique topic from `base`, waits for its leaders, and deletes it on cleanup. */
  createTopic(base: string, options?: { partitions?: number }): Promise<string>;
  /** Deletes the topics created here and disconnects the admin. Safe to call twice. */
  cleanup(): Promise<void>;
}

export interface TestKafkaOptions {
  readonly brokers?: readonly string[];
  readonly clientId?: string;
}

export async function createTestKafka(options: TestKafkaOptions = {}): Promise<TestKafka> {
  const brokers = [...(options.brokers ?? parseBrokers(requireEnv('KAFKA_BROKERS')))];
  const kafka = new Kafka({
    clientId: options.clientId ?? `eta-test-${uniqueId()}`,
    brokers,
    // kafkajs logs every retry at INFO; in tests only real errors are worth the noise.
    logLevel: logLevel.ERROR,
    retry: { retries: 5 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`cannot connect to Kafka at ${brokers.join(',')}. ${HOW_TO_START}`, { cause: err });
  }
  const created: string[] = [];
  let cleaned = false;
  return {
    brokers,
    kafka,
    admin,
    async createTopic(base, topicOptions = {}) {
      const topic = uniqueTopic(base);
      const partitions = topicOptions.partitions ?? 1;
      // kafkajs's own waitForLeaders retries only LEADER_NOT_AVAILABLE, but a KRaft broker answers
      // UNKNOWN_TOPIC_OR_PARTITION until the new topic reaches its metadata cache; so wait here.
      await admin.createTopics({
        topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
        waitForLeaders: false,
      });
      created.push(topic);
      await waitForLeaders(admin, topic, partitions);
      return topic;
    },
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      try {
        if (created.length > 0) await admin.deleteTopics({ topics: created, timeout: 10_000 });
      } finally {
        await admin.disconnect();
      }
    },
  };
}

// ------------------------------------------------------------------------------------------- BigQuery

export type { TestBigQuery, TestBigQueryOptions } from './bigquery.ts';

/**
 * A dataset of one test's own on the BigQuery emulator (BIGQUERY_EMULATOR_HOST, BIGQUERY_PROJECT from
 * scripts/backing-services.sh), deleted on cleanup; see ./bigquery.ts. Loaded on first use, so test files
 * without BigQuery do not load its client.
 */
export async function createTestBigQuery(options?: TestBigQueryOptions): Promise<TestBigQuery> {
  return (await import('./bigquery.ts')).createTestBigQuery(options);
}

// ------------------------------------------------------------------------------- Ports and processes

export { freePort } from './ports.ts';
export { seededRandom } from './random.ts';
export {
  kafkaLibsDir,
  startKafkaBroker,
  type KafkaBroker,
  type KafkaBrokerListener,
  type KafkaBrokerOptions,
  type KafkaBrokerSaslOptions,
} from './kafka-broker.ts';
export {
  createKafkaAcls,
  type AclOperation,
  type AclPatternType,
  type AclResourceType,
  type KafkaAcl,
} from './kafka-acls.ts';
export { startPrivateRedis, type PrivateRedis } from './private-redis.ts';
export {
  SERVICE_NODE_OPTIONS,
  SERVICE_RUNTIME_ARGS,
  SERVICE_RUNTIME_ENV,
  serviceRuntimeArgs,
  serviceRuntimeEnv,
  spawnService,
  suiteService,
  type ExitStatus,
  type SpawnedService,
  type SpawnServiceOptions,
} from './spawn.ts';
