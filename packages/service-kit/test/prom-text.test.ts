import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  byLabel,
  histogramBuckets,
  histogramQuantile,
  parseSamples,
  samples,
  sampleValue,
  sumSamples,
} from '../src/prom-text.ts';

/** The text a real prom-client Registry exposes after `fill` recorded into it. */
async function exposition(fill: (registers: Registry[]) => void): Promise<string> {
  const registry = new Registry();
  fill([registry]);
  return registry.metrics();
}

describe('prom-text', () => {
  it('unescapes label values (\\\\, \\" and \\n) and matches on the unescaped value', async () => {
    const tricky = 'C:\\models\\"v2"\nnext';
    const text = await exposition((registers) => {
      const c = new Counter({ name: 'calls_total', help: 'x', labelNames: ['path', 'kind'], registers });
      c.inc({ path: tricky, kind: 'a' }, 3);
      c.inc({ path: 'plain', kind: 'a' }, 5);
    });
    // What prom-client wrote, so the test stays about escapes.
    expect(text).toContain(String.raw`path="C:\\models\\\"v2\"\nnext"`);

    expect(samples(text, 'calls_total', { path: tricky })).toEqual([
      { name: 'calls_total', labels: { path: tricky, kind: 'a' }, value: 3 },
    ]);
    expect(sumSamples(text, 'calls_total', { kind: 'a' })).toBe(8);
    expect(sumSamples(text, 'calls_total', { path: String.raw`C:\\models` })).toBe(0);
  });

  it('reads a label value holding }, commas, = and spaces whole', async () => {
    const route = '/stores/{id}, x="1" } 99';
    const text = await exposition((registers) => {
      const g = new Gauge({ name: 'in_flight', help: 'x', labelNames: ['route', 'method'], registers });
      g.set({ route, method: 'GET' }, 4);
    });
    expect(parseSamples(text)).toEqual([{ name: 'in_flight', labels: { route, method: 'GET' }, value: 4 }]);
  });

  it('never takes a name for a prefix of another (foo is not foo_total, foo_bucket or foo_other)', async () => {
    const text = await exposition((registers) => {
      new Gauge({ name: 'jobs', help: 'x', registers }).set(2);
      new Counter({ name: 'jobs_total', help: 'x', registers }).inc(30);
      new Counter({ name: 'jobs_total_other', help: 'x', labelNames: ['k'], registers }).inc({ k: 'a' }, 400);
      new Histogram({ name: 'jobs_seconds', help: 'x', buckets: [1], registers }).observe(0.5);
    });
    expect(sumSamples(text, 'jobs')).toBe(2);
    expect(sumSamples(text, 'jobs_total')).toBe(30);
    expect(sumSamples(text, 'jobs_total_other')).toBe(400);
    expect(samples(text, 'jobs_seconds')).toEqual([]);
    expect(sampleValue(text, 'jobs_seconds_count')).toBe(1);
    expect(sampleValue(text, 'job')).toBeUndefined();
    expect(sumSamples(text, 'job')).toBe(0);
  });

  it('skips HELP and TYPE lines, even when their text looks like a sample', async () => {
    const text = await exposition((registers) => {
      new Gauge({ name: 'temp', help: 'temp{x="1"} 1000', registers }).set(21.5);
    });
    expect(text).toContain('# HELP temp temp{x="1"} 1000');
    expect(parseSamples(text)).toEqual([{ name: 'temp', labels: {}, value: 21.5 }]);
  });

  it('reads +Inf, -Inf and NaN values, and exponent notation', async () => {
    const text = await exposition((registers) => {
      const g = new Gauge({ name: 'odd', help: 'x', labelNames: ['which'], registers });
      g.set({ which: 'up' }, Infinity);
      g.set({ which: 'down' }, -Infinity);
      g.set({ which: 'none' }, NaN);
      g.set({ which: 'tiny' }, 1e-7);
    });
    expect(text).toContain('odd{which="up"} +Inf');
    expect(byLabel(text, 'odd', 'which')).toEqual({
      up: Infinity,
      down: -Infinity,
      none: NaN,
      tiny: 1e-7,
    });
  });

  it('reads a timestamp after the value, and skips lines that are not samples', () => {
    const text = [
      'a_total{x="1"} 5 1700000000000',
      'a_total 7',
      'a_total{x="2" 9',
      'a_total{x="3"}',
      'a_total{x="4"} 1 nonsense',
      'a_total-b 3',
      '',
    ].join('\n');
    expect(samples(text, 'a_total')).toEqual([
      { name: 'a_total', labels: { x: '1' }, value: 5 },
      { name: 'a_total', labels: {}, value: 7 },
    ]);
  });

  it('sums by one label over the others, within `where`', async () => {
    const text = await exposition((registers) => {
      const c = new Counter({
        name: 'consumed_total',
        help: 'x',
        labelNames: ['topic', 'outcome', 'partition'],
        registers,
      });
      c.inc({ topic: 't', outcome: 'ok', partition: '0' }, 10);
      c.inc({ topic: 't', outcome: 'ok', partition: '1' }, 5);
      c.inc({ topic: 't', outcome: 'failed', partition: '1' }, 2);
      c.inc({ topic: 'other', outcome: 'ok', partition: '0' }, 100);
    });
    expect(byLabel(text, 'consumed_total', 'outcome', { topic: 't' })).toEqual({ ok: 15, failed: 2 });
    expect(byLabel(text, 'consumed_total', 'missing', { topic: 't' })).toEqual({ '': 17 });
  });

  it("reads a histogram's buckets sorted, summed over the other labels, +Inf last", async () => {
    const text = await exposition((registers) => {
      const h = new Histogram({
        name: 'batch_seconds',
        help: 'x',
        labelNames: ['topic', 'partition'],
        buckets: [0.1, 0.5, 1],
        registers,
      });
      for (const v of [0.05, 0.2, 0.7, 3]) h.observe({ topic: 't', partition: '0' }, v);
      for (const v of [0.05, 0.05]) h.observe({ topic: 't', partition: '1' }, v);
      h.observe({ topic: 'other', partition: '0' }, 0.05);
    });
    expect(histogramBuckets(text, 'batch_seconds', { topic: 't' })).toEqual([
      [0.1, 3],
      [0.5, 4],
      [1, 5],
      [Infinity, 6],
    ]);
    expect(histogramBuckets(text, 'batch_seconds', { topic: 'none' })).toEqual([]);
    // Sorted by bound whatever the order of the lines.
    const shuffled = text.split('\n').reverse().join('\n');
    expect(histogramBuckets(shuffled, 'batch_seconds', { topic: 't' })).toEqual([
      [0.1, 3],
      [0.5, 4],
      [1, 5],
      [Infinity, 6],
    ]);
  });

  it('estimates a quantile like histogram_quantile(): linear in the bucket, between two readings', () => {
    const before: [number, number][] = [
      [0.1, 10],
      [0.5, 10],
      [1, 10],
      [Infinity, 10],
    ];
    const after: [number, number][] = [
      [0.1, 30],
      [0.5, 50],
      [1, 50],
      [Infinity, 60],
    ];
    // Since start: 60 observations; the 30th is the last of the first bucket, the 45th 3/4 into (0.1, 0.5].
    expect(histogramQuantile(0.5, after)).toBe(0.1);
    expect(histogramQuantile(0.75, after)).toBeCloseTo(0.1 + 0.4 * (15 / 20), 12);
    // The highest finite bound when the rank falls in +Inf.
    expect(histogramQuantile(0.99, after)).toBe(1);
    // Between the readings: 20 in (0, 0.1], 20 in (0.1, 0.5], 10 in +Inf; the median is the 25th.
    expect(histogramQuantile(0.5, after, before)).toBeCloseTo(0.1 + 0.4 * (5 / 20), 12);
    expect(histogramQuantile(0.5, before, before)).toBeNaN();
    expect(histogramQuantile(0.5, [])).toBeNaN();
  });
});
