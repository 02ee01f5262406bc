import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import {
  ConfigError,
  baseServiceEnv,
  envBool,
  envList,
  envPort,
  envUrl,
  loadConfigOrEnd,
  parseEnv,
  z,
} from '../src/index.ts';

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

describe('loadConfigOrEnd', () => {
  it('returns the parsed config and does not end the process', () => {
    const end = vi.fn();
    expect(loadConfigOrEnd(schema, { PORT: '9000' }, end)?.PORT).toBe(9000);
    expect(end).not.toHaveBeenCalled();
  });

  it('writes one CRITICAL line naming every bad key, ends with 1 and gives undefined', () => {
    const end = vi.fn();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(loadConfigOrEnd(schema, { PORT: 'eighty', FEATURE: 'maybe' }, end)).toBeUndefined();
      expect(end).toHaveBeenCalledExactlyOnceWith(1);
      expect(write).toHaveBeenCalledTimes(1);
      const line = JSON.parse(String(write.mock.calls[0]![0])) as {
        severity: string;
        issues: { key: string }[];
      };
      expect(line.severity).toBe('CRITICAL');
      expect(line.issues.map((i) => i.key).sort()).toEqual(['FEATURE', 'PORT']);
    } finally {
      write.mockRestore();
    }
  });
});

describe('endProcess', () => {
  const source = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const run = (body: string) =>
    spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { endProcess } from ${JSON.stringify(source)};\n${body}`],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );

  it('ends with the code once the event loop is empty', () => {
    const res = run('endProcess(3); console.log("still ran to the end");');
    expect(res.status).toBe(3);
    expect(res.stdout).toContain('still ran to the end');
  });

  it('exits with the code after the grace period when a handle keeps the loop alive', () => {
    const res = run('setInterval(() => {}, 1000); endProcess(4, 100);');
    expect(res.signal).toBeNull();
    expect(res.status).toBe(4);
  });
});
