import { readFileSync } from 'node:fs';
import { cacheEnv } from '@eta/cache';
import { baseServiceEnv, envBool, envInt, envList, envPort, envUrl, z } from '@eta/config';
import { TRAINING_DATASET_DEFAULT } from '@eta/contracts';
import {
  KAFKA_SASL_MECHANISMS,
  type KafkaClientOptions,
  type KafkaSasl,
  type KafkaSaslMechanism,
  type KafkaTls,
} from '@eta/events';
import { databaseEnv } from './adapters/db/env.ts';
import { authConfigIssues, authEnv } from './auth/config.ts';

/**
 * Which routes one process serves (one image, a Deployment per role; `all` for local runs and tests).
 * `events` runs the event consumers (live dong statistics, live accuracy) and the order-events ingest
 * (docs/adr/0006-event-consumers.md).
 */
export const ROLES = ['precise', 'rough', 'admin', 'events', 'all'] as const;
export type Role = (typeof ROLES)[number];

/** Bucket lengths that divide an hour, so a bucket never straddles two values of the hour feature. */
const BUCKET_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

export const configSchema = baseServiceEnv
  .extend(cacheEnv.shape)
  .extend(databaseEnv.shape)
  .extend(authEnv.shape)
  .extend({
    PORT: envPort(8080),
    ROLE: z.enum(ROLES, { message: `expected one of ${ROLES.join(', ')}` }).default('all'),
    /** Defaults are the local dev ports (scripts/dev.ts); the chart sets the in-cluster Services. */
    GEO_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8081'),
    ML_PROXY_URL: envUrl(['http', 'https']).default('http://127.0.0.1:8082'),

    /**
     * Time for all dependency calls of one estimate; the request's own deadline (REQUEST_TIMEOUT_MS or the
     * caller's x-request-timeout-ms) cuts it further. Past it the ladder answers without the dependencies.
     */
    ESTIMATE_BUDGET_MS: envInt(250, { min: 1, max: 10_000 }),
    /** Kept back from the request's deadline to build and send the answer. */
    ESTIMATE_RESERVE_MS: envInt(5, { min: 0, max: 1_000 }),
    /** Per Geo call. Geo answers in about a millisecond; more than this is an outage, not a slow answer. */
    GEO_TIMEOUT_MS: envInt(50, { min: 1, max: 10_000 }),
    /** Per ML proxy call; the proxy's own model deadline (MODEL_DEADLINE_MS, 50) should be below it. */
    ML_TIMEOUT_MS: envInt(80, { min: 1, max: 10_000 }),
    /** Below this many ms of budget a dependency call is not started. */
    DEPENDENCY_MIN_BUDGET_MS: envInt(3, { min: 0, max: 1_000 }),
    /** Retry a call once after a connection failure (never after a timeout). */
    DEPENDENCY_RETRY: envBool(true),
    /**
     * Consecutive failures that open a dependency's breaker, and how long it stays open before one probe.
     * At thousands of requests per second a 60 ms stall times out dozens of calls at once, so the count is
     * well above a handful and the open period short: a false open costs a second of degraded answers,
     * while a real outage (every call refused) still opens it within milliseconds.
     */
    BREAKER_FAILURES: envInt(20, { min: 1, max: 1_000 }),
    BREAKER_RESET_MS: envInt(1_000, { min: 10, max: 600_000 }),
    /**
     * Coalesce the Geo and ML proxy calls of the estimates that reach them in the same event-loop turn
     * (or while a call is in flight, DEPENDENCY_COALESCE_HOLD_MS) into one call each (service-kit's
     * coalescer): fewer calls under load.
     */
    DEPENDENCY_COALESCE: envBool(true),
    /**
     * While a coalesced Geo or ML proxy call is in flight, the next requests wait for it to settle (at
     * most this many ms) and then share one call (the coalescer's holdWhileBusyMs); 0: never wait. An
     * idle dependency is never waited for; under load the batches span a round trip (docs/benchmarks.md).
     */
    DEPENDENCY_COALESCE_HOLD_MS: envInt(1, { min: 0, max: 20 }),
    /** Most pairs in one coalesced Geo call (Geo takes at most 500). */
    GEO_COALESCE_MAX_PAIRS: envInt(64, { min: 1, max: 500 }),
    /** Most rows in one coalesced ML proxy call; a larger request (a rough list) is sent on its own. */
    ML_COALESCE_MAX_ROWS: envInt(256, { min: 1, max: 10_000 }),
    GEO_CONNECTIONS: envInt(32, { min: 1, max: 1_024 }),
    ML_CONNECTIONS: envInt(32, { min: 1, max: 1_024 }),
    /** How often the served models' feature layouts are re-checked against this code's. */
    MODEL_LAYOUT_REFRESH_SECONDS: envInt(30, { min: 1, max: 3_600 }),

    /**
     * Before listening (a pod is not ready, nor past its startup probe, until then): read up to
     * WARMUP_MAX_STORES stores into the catalogue's cache in batches, then run WARMUP_ESTIMATES precise
     * estimates through the whole path (catalogue, Geo, ML proxy), so the first real requests are not
     * the slowest. 0 turns each off. At most 60 s in all.
     */
    WARMUP_MAX_STORES: envInt(100_000, { min: 0, max: 10_000_000 }),
    WARMUP_ESTIMATES: envInt(3_000, { min: 0, max: 1_000_000 }),

    /** H3 resolution of the rough cache key's destination cell (8: cells of about 0.7 km²). */
    ROUGH_H3_RESOLUTION: envInt(8, { min: 5, max: 11 }),
    ROUGH_TIME_BUCKET_MINUTES: envInt(15, { min: 1, max: 60 }).refine((m) => BUCKET_MINUTES.includes(m), {
      message: `must divide 60 (${BUCKET_MINUTES.join(', ')})`,
    }),
    ROUGH_CACHE_MAX_ENTRIES: envInt(200_000, { min: 1 }),
    ROUGH_CACHE_MAX_BYTES: envInt(64 * 1024 * 1024, { min: 1 }),

    /**
     * The prediction log (README "Prediction log"): every precise and rough answer published to the
     * `predictions` topic after it was sent. On by default; `off` opens no Kafka connection at all.
     */
    PREDICTION_LOG: envBool(true),
    /**
     * Kafka bootstrap servers (`host:port,...`). Unset: the in-process event bus stands in (local runs, the
     * embedded defaults), so the events exist in the process and nothing leaves it.
     */
    KAFKA_BROKERS: envList()
      .refine((list) => list.length > 0 && list.every((b) => /^[^\s:,]+:\d{1,5}$/.test(b)), {
        message: 'expected host:port[,host:port...]',
      })
      .optional(),
    /**
     * TLS to the brokers (Confluent Cloud needs it). Never implied by SASL: set it explicitly. With
     * KAFKA_SSL_CA_FILE, the PEM certificate(s) in that file are trusted instead of Node's root CAs (a
     * private CA); Confluent Cloud's certificates need no file.
     */
    KAFKA_SSL: envBool(false),
    KAFKA_SSL_CA_FILE: z.string().optional(),
    /**
     * SASL authentication (unset: none). Confluent Cloud: `plain` with an API key as the username and its
     * secret as the password. KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD are then both required.
     */
    KAFKA_SASL_MECHANISM: z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(KAFKA_SASL_MECHANISMS, { message: `expected one of ${KAFKA_SASL_MECHANISMS.join(', ')}` }))
      .optional(),
    KAFKA_SASL_USERNAME: z.string().optional(),
    /** A secret: from a Kubernetes Secret (the chart's kafka.sasl.existingSecret), never in values or logs. */
    KAFKA_SASL_PASSWORD: z.string().optional(),
    /** Put before every topic name (`<prefix>predictions`): environments or test runs sharing a cluster. */
    KAFKA_TOPIC_PREFIX: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{0,100}$/, { message: 'expected up to 100 of [a-zA-Z0-9._-]' })
      .default(''),
    /**
     * The publisher's bounded buffer: past either bound an event is dropped and counted
     * (events_dropped_total{reason="buffer-full"}), never waited for. 10,000 events are 5 s of a pod's
     * answers at 2,000/s; 16 MiB bounds the memory whatever the events' size (a rough event of 200 stores
     * is about 60 KiB).
     */
    EVENTS_BUFFER_MAX_EVENTS: envInt(10_000, { min: 1, max: 1_000_000 }),
    EVENTS_BUFFER_MAX_BYTES: envInt(16 * 1024 * 1024, { min: 1_024, max: 1024 * 1024 * 1024 }),
    /**
     * How long the first event of a batch waits for more before the batch is sent. Short, so the producer
     * thread's and the broker's work comes in small pieces rather than one burst of a batch every linger:
     * with the log on to a broker on the same two cores, precise p99 at 1,000/s was 13.3-20.6 ms at 250 ms
     * (off: 4.2-7.2 ms) and 6.7-7.6 ms at 25 ms, for the same BFF CPU per answer (+100-122 µs against
     * +81-108); 5 ms was no faster and cost more (+140 µs). docs/benchmarks.md, 2026-12-07.
     */
    EVENTS_LINGER_MS: envInt(25, { min: 0, max: 10_000 }),
    /** Most events in one send. */
    EVENTS_MAX_BATCH: envInt(500, { min: 1, max: 10_000 }),
    /** The deadline of one send to Kafka, the client's retries included; past it the batch is dropped. */
    EVENTS_SEND_TIMEOUT_MS: envInt(5_000, { min: 100, max: 120_000 }),

    /**
     * The event consumers: `auto` runs them in ROLE=events, and in ROLE=all only on the in-process bus
     * (KAFKA_BROKERS unset: the local run, where nothing else would consume); `on` and `off` force it.
     */
    EVENT_CONSUMERS: z.enum(['auto', 'on', 'off']).default('auto'),
    /**
     * The consumers' Kafka group: its members share the partitions of `orders` and `predictions`. `eta-`
     * first because the Confluent Cloud ACLs (terraform/modules/stack) let the consumer read groups
     * prefixed `eta-` only.
     */
    EVENTS_CONSUMER_GROUP: z
      .string()
      .regex(/^[a-zA-Z0-9._-]{1,200}$/, { message: 'expected 1-200 of [a-zA-Z0-9._-]' })
      .default('eta-vendor-bff-events'),
    /** Applied event ids are remembered this long (a redelivery comes from an uncommitted offset). */
    EVENTS_RECEIPT_RETENTION_HOURS: envInt(48, { min: 1, max: 24 * 30 }),
    /** A prediction or a delivery waits this long for its other half before it is dropped unjoined. */
    ACCURACY_JOIN_WINDOW_HOURS: envInt(6, { min: 1, max: 24 * 7 }),
    /** Joined outcomes (the accuracy API's days) are kept this long. */
    ACCURACY_RETENTION_DAYS: envInt(90, { min: 1, max: 3_650 }),
    /** How often the live per-dong statistics are written to Redis (REDIS_URL; Geo reads them). */
    LIVE_STATS_INTERVAL_MS: envInt(5_000, { min: 100, max: 600_000 }),
    /** Prepended to the live statistics' Redis keys, as Geo's GEO_LIVE_KEY_NAMESPACE (environments sharing one Redis). */
    LIVE_STATS_NAMESPACE: z.string().max(100).default(''),

    /**
     * Training rows (docs/adr/0007-training-rows.md): the consumers write one per delivered order scored
     * against an eta-precise answer in Postgres (`training_rows`). With BIGQUERY_PROJECT a shipper in the
     * events role copies them to BigQuery; unset, Postgres is where they stay (the embedded default).
     */
    BIGQUERY_PROJECT: z
      .string()
      .regex(/^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/, {
        message: 'expected a Google Cloud project id',
      })
      .optional(),
    /** Created with the table when absent (Terraform creates eta_<env> in the deployed environments). */
    BIGQUERY_DATASET: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,1024}$/, { message: 'expected a BigQuery dataset id (letters, digits, _)' })
      .default(TRAINING_DATASET_DEFAULT),
    /** Where the dataset is created when absent (e.g. asia-northeast3); BigQuery's default when unset. */
    BIGQUERY_LOCATION: z
      .string()
      .regex(/^[A-Za-z0-9-]{2,64}$/, { message: 'expected a BigQuery location, e.g. asia-northeast3' })
      .optional(),
    /**
     * Another endpoint than Google's (`http(s)://host[:port]`). A plain-http one is taken for an emulator:
     * a fixed token instead of Application Default Credentials, so no credential goes out unencrypted.
     */
    BIGQUERY_API_ENDPOINT: envUrl(['http', 'https']).optional(),
    /** The emulator (tests: scripts/bigquery/emulator.sh), `http://host:port/bigquery/v2`, as the client reads it. */
    BIGQUERY_EMULATOR_HOST: envUrl(['http', 'https'])
      .refine((v) => /\/bigquery\/v2\/?$/.test(v), { message: 'expected a URL ending in /bigquery/v2' })
      .optional(),
    /** Without BigQuery, training rows are kept this long after their Seoul day. */
    TRAINING_ROWS_RETENTION_DAYS: envInt(90, { min: 1, max: 3_650 }),
    /** With BigQuery, a row is deleted from Postgres this long after it was shipped (never before). */
    TRAINING_ROWS_SHIPPED_RETENTION_HOURS: envInt(24, { min: 0, max: 24 * 365 }),
    /** Time between shipping rounds; a round sends batches until nothing is left (at most 40 batches). */
    TRAINING_ROWS_SHIP_INTERVAL_MS: envInt(5_000, { min: 50, max: 600_000 }),
    /** Rows per insert request (BigQuery recommends about 500; a row is about 1 KB). */
    TRAINING_ROWS_SHIP_BATCH: envInt(500, { min: 1, max: 10_000 }),
    /** Deadline of each BigQuery call (one HTTP request; the client's own retries are off). */
    TRAINING_ROWS_SHIP_TIMEOUT_MS: envInt(30_000, { min: 100, max: 600_000 }),
    /** Failures back off 1 s, 2 s, 4 s ... up to this. */
    TRAINING_ROWS_SHIP_MAX_BACKOFF_MS: envInt(300_000, { min: 100, max: 3_600_000 }),
  })
  // Auth keys that only make sense together, or that a role cannot run without (auth/config.ts); the
  // same for the Kafka credentials.
  .superRefine((c, ctx) => {
    for (const issue of [...authConfigIssues(c), ...kafkaConfigIssues(c), ...bigQueryConfigIssues(c)]) {
      ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    }
  })
  // What every Kafka client of the BFF takes besides its brokers, as @eta/events' plain-data options.
  .transform((c, ctx) => ({ ...c, kafkaSecurity: kafkaSecurity(c, ctx) }));

export type Config = z.output<typeof configSchema>;

interface KafkaEnv {
  readonly KAFKA_BROKERS?: readonly string[] | undefined;
  readonly KAFKA_SSL: boolean;
  readonly KAFKA_SSL_CA_FILE?: string | undefined;
  readonly KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  readonly KAFKA_SASL_USERNAME?: string | undefined;
  readonly KAFKA_SASL_PASSWORD?: string | undefined;
}

/** Kafka keys that only make sense together. Messages never quote a value (the password is one). */
export function kafkaConfigIssues(c: KafkaEnv): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (c.KAFKA_SASL_MECHANISM !== undefined) {
    for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (c[key] === undefined) {
        issues.push({ path: key, message: 'required when KAFKA_SASL_MECHANISM is set' });
      }
    }
  } else {
    for (const key of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const) {
      if (c[key] !== undefined) {
        issues.push({
          path: 'KAFKA_SASL_MECHANISM',
          message: `required when ${key} is set (${KAFKA_SASL_MECHANISMS.join(', ')})`,
        });
        break;
      }
    }
  }
  if (c.KAFKA_SSL_CA_FILE !== undefined && !c.KAFKA_SSL) {
    issues.push({ path: 'KAFKA_SSL_CA_FILE', message: 'needs KAFKA_SSL=true (TLS is never implied)' });
  }
  if (c.KAFKA_BROKERS === undefined) {
    const set =
      c.KAFKA_SASL_MECHANISM !== undefined ? 'KAFKA_SASL_MECHANISM' : c.KAFKA_SSL ? 'KAFKA_SSL' : '';
    if (set !== '') {
      issues.push({
        path: set,
        message: 'has no effect without KAFKA_BROKERS (the in-process bus has no credentials)',
      });
    }
  }
  return issues;
}

interface BigQueryEnv {
  readonly BIGQUERY_PROJECT?: string | undefined;
  readonly BIGQUERY_LOCATION?: string | undefined;
  readonly BIGQUERY_API_ENDPOINT?: string | undefined;
  readonly BIGQUERY_EMULATOR_HOST?: string | undefined;
}

/** BigQuery keys that only make sense together. */
export function bigQueryConfigIssues(c: BigQueryEnv): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  if (c.BIGQUERY_API_ENDPOINT !== undefined && c.BIGQUERY_EMULATOR_HOST !== undefined) {
    issues.push({ path: 'BIGQUERY_API_ENDPOINT', message: 'set it or BIGQUERY_EMULATOR_HOST, not both' });
  }
  if (c.BIGQUERY_PROJECT === undefined) {
    for (const key of ['BIGQUERY_LOCATION', 'BIGQUERY_API_ENDPOINT', 'BIGQUERY_EMULATOR_HOST'] as const) {
      if (c[key] !== undefined) {
        issues.push({
          path: key,
          message: 'has no effect without BIGQUERY_PROJECT (training rows stay in Postgres)',
        });
      }
    }
  }
  return issues;
}

/** KAFKA_SSL* and KAFKA_SASL_* as the clients' options; reads the CA file (a config error if it cannot). */
function kafkaSecurity(c: KafkaEnv, ctx: z.RefinementCtx): Pick<KafkaClientOptions, 'ssl' | 'sasl'> {
  const out: { ssl?: boolean | KafkaTls; sasl?: KafkaSasl } = {};
  if (c.KAFKA_SSL) {
    if (c.KAFKA_SSL_CA_FILE === undefined) {
      out.ssl = true;
    } else {
      let ca = '';
      try {
        ca = readFileSync(c.KAFKA_SSL_CA_FILE, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        ctx.addIssue({
          code: 'custom',
          path: ['KAFKA_SSL_CA_FILE'],
          message: `cannot read the file (${code})`,
        });
      }
      if (ca !== '' && !ca.includes('-----BEGIN CERTIFICATE-----')) {
        ctx.addIssue({ code: 'custom', path: ['KAFKA_SSL_CA_FILE'], message: 'holds no PEM certificate' });
      }
      out.ssl = { ca };
    }
  }
  const { KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password } = c;
  if (mechanism !== undefined && username !== undefined && password !== undefined) {
    out.sasl = { mechanism, username, password };
  }
  return out;
}
