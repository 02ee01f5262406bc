import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  parseCsvHistory,
  parseHistory,
  parsePrometheusHistory,
  parseTimestamp,
} from '../../src/learn/history.ts';
import { InputError } from '../../src/learn/targets.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
// 2026-03-02 09:00:00 UTC = 18:00 in Seoul.
const T0 = 1_772_442_000;

describe('timestamps', () => {
  it('reads ISO 8601 with an offset and epoch seconds as the same instant', () => {
    expect(parseTimestamp('2026-03-02T18:00:00+09:00')).toBe(T0);
    expect(parseTimestamp('2026-03-02T09:00:00Z')).toBe(T0);
    expect(parseTimestamp('2026-03-02T04:00:00-05:00')).toBe(T0);
    expect(parseTimestamp('2026-03-02 09:00Z')).toBe(T0);
    expect(parseTimestamp('1772442000')).toBe(T0);
    expect(parseTimestamp('1772442000.5')).toBe(T0 + 0.5);
  });

  it.each([
    ['no offset', '2026-03-02T18:00:00', /no UTC offset/],
    ['milliseconds', '1772442000000', /milliseconds/],
    ['a day that does not exist', '2026-02-30T10:00:00Z', /not a real date/],
    ['hour 24', '2026-03-02T24:00:00Z', /not a real date/],
    ['words', 'yesterday', /neither ISO 8601/],
    ['before 2000', '946684799', /outside/],
  ])('refuses %s', (_why, text, message) => {
    expect(() => parseTimestamp(text)).toThrow(message);
  });
});

describe('CSV history', () => {
  it('reads every accepted form of the fixture, sorted by role then time', () => {
    expect(parseCsvHistory(fixture('history.csv'))).toEqual([
      { t: T0, role: 'geo', rps: 2000 },
      { t: T0, role: 'vendor-bff-precise', rps: 1200 },
      { t: T0 + 60, role: 'vendor-bff-precise', rps: 1250.5 },
      { t: T0 + 120, role: 'vendor-bff-rough', rps: 300 },
    ]);
  });

  it.each([
    ['a missing header', '2026-03-02T09:00:00Z,geo,1\n', /line 1: expected the header/],
    ['an empty file', '\n', /empty CSV/],
    ['a short row', 'timestamp,role,rps\n2026-03-02T09:00:00Z,geo\n', /line 2: expected 3 cells/],
    ['a row without offset', 'timestamp,role,rps\n2026-03-02T09:00:00,geo,1\n', /line 2: .*no UTC offset/],
    [
      'an unknown role',
      'timestamp,role,rps\n1772442000,checkout,1\n',
      /line 2: role "checkout" is not a target/,
    ],
    ['a negative rate', 'timestamp,role,rps\n1772442000,geo,-1\n', /line 2: rate "-1"/],
    ['NaN', 'timestamp,role,rps\n1772442000,geo,NaN\n', /line 2: rate "NaN"/],
    ['an infinite rate', 'timestamp,role,rps\n1772442000,geo,1e400\n', /line 2: rate "1e400"/],
    ['hex', 'timestamp,role,rps\n1772442000,geo,0x10\n', /line 2: rate "0x10"/],
    ['an empty rate', 'timestamp,role,rps\n1772442000,geo,\n', /line 2: rate ""/],
    ['only a header', 'timestamp,role,rps\n', /no samples/],
    [
      'two samples at one time',
      'timestamp,role,rps\n1772442000,geo,1\n2026-03-02T18:00:00+09:00,geo,2\n',
      /line 3: a second sample for geo at the same time as line 2/,
    ],
  ])('refuses %s, saying where', (_why, text, message) => {
    expect(() => parseCsvHistory(text)).toThrow(InputError);
    expect(() => parseCsvHistory(text)).toThrow(message);
  });
});

describe('Prometheus range-query export', () => {
  it('reads the fixture: one series per role, values as strings', () => {
    const samples = parsePrometheusHistory(fixture('history.prometheus.json'));
    expect(samples).toHaveLength(5);
    expect(samples.filter((s) => s.role === 'vendor-bff-precise')).toEqual([
      { t: T0, role: 'vendor-bff-precise', rps: 1200 },
      { t: T0 + 60, role: 'vendor-bff-precise', rps: 1250.5 },
    ]);
    expect(parseHistory(fixture('history.prometheus.json'))).toEqual(samples);
    expect(parseHistory(fixture('history.csv'))).toHaveLength(4);
  });

  it('takes the role from another label when told', () => {
    const doc = {
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: { component: 'geo' }, values: [[T0, '5']] }] },
    };
    expect(parsePrometheusHistory(JSON.stringify(doc), 'component')).toEqual([
      { t: T0, role: 'geo', rps: 5 },
    ]);
  });

  const answer = (result: unknown, extra: object = {}) =>
    JSON.stringify({ status: 'success', data: { resultType: 'matrix', result }, ...extra });
  it.each([
    ['not JSON', '{"status":', /not JSON/],
    [
      'an error answer',
      JSON.stringify({ status: 'error', error: 'bad_data' }),
      /status is "error": bad_data/,
    ],
    [
      'an instant query',
      JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }),
      /expected "matrix"/,
    ],
    [
      'a series without the label',
      answer([{ metric: { job: 'x' }, values: [] }]),
      /series 0: no "role" label/,
    ],
    [
      'two series for one role',
      answer([
        { metric: { role: 'precise' }, values: [[T0, '1']] },
        { metric: { role: 'vendor-bff-precise' }, values: [[T0 + 60, '1']] },
      ]),
      /series 1: a second series for vendor-bff-precise .*sum by \(role\)/,
    ],
    [
      'a NaN value',
      answer([{ metric: { role: 'geo' }, values: [[T0, 'NaN']] }]),
      /series 0 \(geo\) value 0: rate "NaN"/,
    ],
    ['+Inf', answer([{ metric: { role: 'geo' }, values: [[T0, '+Inf']] }]), /rate "\+Inf"/],
    [
      'a number instead of a string',
      answer([{ metric: { role: 'geo' }, values: [[T0, 5]] }]),
      /expected \[<unix seconds>, "<value>"\]/,
    ],
    [
      'a timestamp in milliseconds',
      answer([{ metric: { role: 'geo' }, values: [[T0 * 1000, '5']] }]),
      /milliseconds/,
    ],
  ])('refuses %s', (_why, text, message) => {
    expect(() => parsePrometheusHistory(text)).toThrow(message);
  });
});
