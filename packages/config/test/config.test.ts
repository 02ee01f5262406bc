import { describe, expect, it } from 'vitest';
import { ConfigError, baseServiceEnv, envBool, envList, envPort, envUrl, parseEnv, z } from '../src/index.ts';

const schema = baseServiceEnv.extend({
  PORT: envPort(8081),
  REDIS_URL: envUrl(['redis', 'rediss']).optional(),
  KAFKA_BROKERS: envList().optional(),
  FEATURE: envBool(true),
});

describe('parseEnv', () => {
  it('applies safe local defaults', () => {
    const cfg = parseEnv(schema, {});
    expect(cfg.PORT).toBe(8081);
    expect(cfg.HOST).toBe('0.0.0.0');
    expect(cfg.FEATURE).toBe(true);
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(cfg.SHUTDOWN_DELAY_MS).toBe(5000);
  });

  it('coerces strings and treats empty strings as unset', () => {
    const cfg = parseEnv(schema, {
      PORT: '9000',
      FEATURE: 'off',
      REDIS_URL: '',
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
    });
    expect(cfg.PORT).toBe(9000);
    expect(cfg.FEATURE).toBe(false);
    expect(cfg.REDIS_URL).toBeUndefined();
    expect(cfg.KAFKA_BROKERS).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
  });

  it('lists every bad key at once, with the reason', () => {
    let error: unknown;
    try {
      parseEnv(schema, { PORT: '70000', REDIS_URL: 'http://x', FEATURE: 'maybe', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.key).sort()).toEqual(['FEATURE', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    expect((error as ConfigError).message).toMatch(/PORT: must be at most 65535/);
    expect((error as ConfigError).message).toMatch(/REDIS_URL: expected a URL \(redis, rediss\)/);
    expect((error as ConfigError).message).toMatch(/FEATURE: expected true or false/);
  });

  it('reports a missing required key', () => {
    expect(() => parseEnv(z.object({ DATABASE_URL: z.string() }), {})).toThrow(/DATABASE_URL/);
  });
});
