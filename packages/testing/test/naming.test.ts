import { describe, expect, it } from 'vitest';
import {
  MissingEnvError,
  parseBrokers,
  redisKeyPrefix,
  requireEnv,
  uniqueId,
  uniqueTopic,
} from '../src/index.ts';

describe('requireEnv', () => {
  it('returns the trimmed value when set', () => {
    expect(requireEnv('DATABASE_URL', { DATABASE_URL: ' postgres://x ' })).toBe('postgres://x');
  });

  it('tells the reader to run scripts/backing-services.sh when unset or blank', () => {
    for (const env of [{}, { REDIS_URL: '' }, { REDIS_URL: '   ' }]) {
      let caught: unknown;
      try {
        requireEnv('REDIS_URL', env);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(MissingEnvError);
      expect((caught as MissingEnvError).variable).toBe('REDIS_URL');
      expect((caught as Error).message).toMatch(/^REDIS_URL is not set\./);
      expect((caught as Error).message).toContain('scripts/backing-services.sh up');
    }
  });
});

describe('unique names', () => {
  it('uniqueId is lowercase alphanumeric and differs between calls', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uniqueId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+$/);
  });

  it('uniqueTopic keeps the base readable and is a legal Kafka topic name', () => {
    const topic = uniqueTopic('orders.created');
    expect(topic).toMatch(/^orders\.created\.test-[a-z0-9]+$/);
    expect(topic.length).toBeLessThanOrEqual(249);
    expect(uniqueTopic('orders.created')).not.toBe(topic);
  });

  it('uniqueTopic rejects characters Kafka would refuse', () => {
    expect(() => uniqueTopic('orders/created')).toThrow(TypeError);
    expect(() => uniqueTopic('')).toThrow(TypeError);
  });

  it('redisKeyPrefix ends with a colon and holds no glob characters', () => {
    const prefix = redisKeyPrefix('cache');
    expect(prefix).toMatch(/^cache:[a-z0-9]+:$/);
    expect(redisKeyPrefix()).toMatch(/^test:[a-z0-9]+:$/);
    expect(() => redisKeyPrefix('a*')).toThrow(TypeError);
  });
});

describe('parseBrokers', () => {
  it('splits and trims a comma-separated list', () => {
    expect(parseBrokers('127.0.0.1:9092, 127.0.0.2:9092,')).toEqual(['127.0.0.1:9092', '127.0.0.2:9092']);
  });

  it('rejects an empty list', () => {
    expect(() => parseBrokers(' , ')).toThrow(/lists no broker/);
  });
});
