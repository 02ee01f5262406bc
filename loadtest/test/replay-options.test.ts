// The replay's command line: defaults, the sink rules, and refusals that name the option.
import { describe, expect, it } from 'vitest';
import {
  defaultRunId,
  parseDuration,
  parseReplayArgs,
  parseTimeOfDay,
  type ReplayOptions,
} from '../lib/replay/options.ts';

const NOW = Date.parse('2026-12-06T10:00:00Z');
const parse = (...args: string[]) => parseReplayArgs(args, NOW) as ReplayOptions;

describe('parseReplayArgs', () => {
  it('defaults to the run command: BFF on 8080, Geo on 8081, events by HTTP, a fresh run id', () => {
    expect(parse()).toMatchObject({
      orders: 1000,
      speed: 60,
      seed: 1,
      maxDurationMs: 30 * 60_000,
      bffUrl: 'http://127.0.0.1:8080/',
      geoUrl: 'http://127.0.0.1:8081/',
      sinks: ['http'],
      stores: 5000,
      runId: defaultRunId(NOW),
      estimates: true,
      dryRun: false,
    });
    expect(defaultRunId(NOW)).toMatch(/^r[0-9a-z]+$/);
    expect(defaultRunId(NOW + 1000)).not.toBe(defaultRunId(NOW));
  });

  it("takes pnpm's literal -- and the issue's example", () => {
    expect(parse('--', '--orders', '2000', '--speed', '60')).toMatchObject({ orders: 2000, speed: 60 });
  });

  it("names the wall clock in estimates unless asked for the dataset's", () => {
    expect(parse()).toMatchObject({ estimateClock: 'wall' });
    expect(parse('--estimate-clock', 'dataset')).toMatchObject({ estimateClock: 'dataset' });
    expect(() => parse('--estimate-clock', 'utc')).toThrow(/--estimate-clock: expected wall or dataset/);
  });

  it('sends to Kafka when brokers are given, to both when asked, and needs brokers for Kafka', () => {
    expect(parse('--brokers', '127.0.0.1:9092')).toMatchObject({
      sinks: ['kafka'],
      brokers: ['127.0.0.1:9092'],
    });
    expect(parse('--brokers', 'a:1,b:2', '--sink', 'http,kafka').sinks).toEqual(['http', 'kafka']);
    expect(parse('--sink', 'none').sinks).toEqual([]);
    expect(() => parse('--sink', 'kafka')).toThrow(/--sink kafka needs --brokers/);
    expect(() => parse('--sink', 'smtp')).toThrow(/--sink/);
    expect(() => parse('--brokers', 'localhost')).toThrow(/--brokers/);
  });

  it('reads windows, durations, offline Geo and the switches', () => {
    expect(
      parse(
        '--from',
        '19:00',
        '--to',
        '01:30',
        '--max-duration',
        '90s',
        '--geo-url',
        'none',
        '--no-estimates',
        '--dry-run',
      ),
    ).toMatchObject({
      fromS: 19 * 3600,
      toS: 5400,
      maxDurationMs: 90_000,
      geoUrl: null,
      estimates: false,
      dryRun: true,
    });
  });

  it('refuses bad values with the option named', () => {
    expect(() => parse('--orders', '0')).toThrow(/--orders/);
    expect(() => parse('--orders', '2.5')).toThrow(/--orders/);
    expect(() => parse('--speed', '-1')).toThrow(/--speed/);
    expect(() => parse('--bff-url', 'ftp://x')).toThrow(/--bff-url/);
    expect(() => parse('--run-id', 'a b')).toThrow(/--run-id/);
    expect(() => parse('--from', '25:00')).toThrow(/--from/);
    expect(() => parse('--bogus')).toThrow();
    expect(parseReplayArgs(['--help'])).toBe('help');
  });
});

describe('parseDuration / parseTimeOfDay', () => {
  it('reads units, plain seconds being the default', () => {
    expect(parseDuration('d', '1500ms')).toBe(1500);
    expect(parseDuration('d', '45')).toBe(45_000);
    expect(parseDuration('d', '30m')).toBe(1_800_000);
    expect(parseDuration('d', '1.5h')).toBe(5_400_000);
    expect(() => parseDuration('d', '10 min')).toThrow(/--d/);
    expect(parseTimeOfDay('t', '08:05')).toBe(8 * 3600 + 300);
  });
});
