// The Kafka credential keys of src/config.ts: what each combination gives the Kafka clients (config's
// kafkaSecurity, spread into every openProducer/createConsumer of the BFF), and the combinations refused at
// start, each naming its key and none quoting a value (the password is one).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, parseEnv } from '@eta/config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config.ts';

const PASSWORD = 'not-a-real-secret-5f0c2e9a';
const BROKERS = { KAFKA_BROKERS: 'pkc-00000.asia-northeast3.gcp.confluent.cloud:9092' };
const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

const parse = (env: Record<string, string>) => parseEnv(configSchema, env);

/** The ConfigError's issues as `key: message`, and its whole text (what main.ts prints at start). */
function refused(env: Record<string, string>): { issues: string[]; text: string } {
  try {
    parse(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return {
      issues: err.issues.map((i) => `${i.key}: ${i.message}`),
      text: `${err.message}${JSON.stringify(err)}`,
    };
  }
  throw new Error('the config was accepted');
}

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bff-kafka-config-'));
  await writeFile(join(dir, 'ca.pem'), CA);
  await writeFile(join(dir, 'not-pem.txt'), 'hello');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Kafka credentials in the config', () => {
  it('without them the clients get no TLS and no SASL (a local broker, or the in-process bus)', () => {
    expect(parse({}).kafkaSecurity).toEqual({});
    expect(parse(BROKERS).kafkaSecurity).toEqual({});
  });

  it("Confluent Cloud's shape: SASL PLAIN over TLS with Node's root CAs; the mechanism in any case", () => {
    const config = parse({
      ...BROKERS,
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'PLAIN',
      KAFKA_SASL_USERNAME: 'ABCDEFGHIJKLMNOP',
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(config.kafkaSecurity).toEqual({
      ssl: true,
      sasl: { mechanism: 'plain', username: 'ABCDEFGHIJKLMNOP', password: PASSWORD },
    });
    // What the threaded producer hands its worker: it must survive structured cloning.
    expect(structuredClone(config.kafkaSecurity)).toEqual(config.kafkaSecurity);
  });

  it('TLS is never implied by SASL: KAFKA_SSL stays off unless set', () => {
    const config = parse({
      ...BROKERS,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(config.KAFKA_SSL).toBe(false);
    expect(config.kafkaSecurity).toEqual({
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: PASSWORD },
    });
  });

  it('KAFKA_SSL_CA_FILE: its PEM is trusted instead of the root CAs', () => {
    const config = parse({ ...BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'ca.pem') });
    expect(config.kafkaSecurity).toEqual({ ssl: { ca: CA } });
  });

  it('refuses a mechanism without its username and password, naming each missing key', () => {
    expect(refused({ ...BROKERS, KAFKA_SASL_MECHANISM: 'plain' }).issues).toEqual([
      'KAFKA_SASL_USERNAME: required when KAFKA_SASL_MECHANISM is set',
      'KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set',
    ]);
    const onlyUser = refused({ ...BROKERS, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' });
    expect(onlyUser.issues).toEqual(['KAFKA_SASL_PASSWORD: required when KAFKA_SASL_MECHANISM is set']);
  });

  it('refuses credentials without a mechanism, and never prints the password', () => {
    const r = refused({ ...BROKERS, KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD });
    expect(r.issues).toEqual([
      'KAFKA_SASL_MECHANISM: required when KAFKA_SASL_USERNAME is set (plain, scram-sha-256, scram-sha-512)',
    ]);
    expect(r.text).not.toContain(PASSWORD);
  });

  it('refuses an unknown mechanism', () => {
    const r = refused({
      ...BROKERS,
      KAFKA_SASL_MECHANISM: 'gssapi',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: PASSWORD,
    });
    expect(r.issues).toEqual(['KAFKA_SASL_MECHANISM: expected one of plain, scram-sha-256, scram-sha-512']);
    expect(r.text).not.toContain(PASSWORD);
  });

  it('refuses a CA file without KAFKA_SSL, one it cannot read, and one with no certificate', () => {
    expect(refused({ ...BROKERS, KAFKA_SSL_CA_FILE: join(dir, 'ca.pem') }).issues).toEqual([
      'KAFKA_SSL_CA_FILE: needs KAFKA_SSL=true (TLS is never implied)',
    ]);
    expect(
      refused({ ...BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') }).issues,
    ).toEqual(['KAFKA_SSL_CA_FILE: cannot read the file (ENOENT)']);
    expect(
      refused({ ...BROKERS, KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: join(dir, 'not-pem.txt') }).issues,
    ).toEqual(['KAFKA_SSL_CA_FILE: holds no PEM certificate']);
  });

  it('refuses credentials or TLS without KAFKA_BROKERS (the in-process bus would ignore them)', () => {
    expect(
      refused({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: PASSWORD })
        .issues,
    ).toEqual([
      'KAFKA_SASL_MECHANISM: has no effect without KAFKA_BROKERS (the in-process bus has no credentials)',
    ]);
    expect(refused({ KAFKA_SSL: 'true' }).issues).toEqual([
      'KAFKA_SSL: has no effect without KAFKA_BROKERS (the in-process bus has no credentials)',
    ]);
  });

  it("the consumer group defaults to a name the Confluent ACLs allow (groups prefixed 'eta-')", () => {
    expect(parse({}).EVENTS_CONSUMER_GROUP).toBe('eta-vendor-bff-events');
  });
});
