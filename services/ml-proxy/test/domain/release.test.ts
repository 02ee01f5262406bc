import { readFile } from 'node:fs/promises';
import { sumSamples } from '@eta/service-kit';
import { describe, expect, it } from 'vitest';
import { accuracyOf, evaluatePromotion, tensorsFor } from '../../src/domain/promotion.ts';
import {
  DEFAULT_CANDIDATE_SHADOW,
  formatRelease,
  parseRelease,
  previousServing,
  promoted,
  publishedAt,
  type ReleaseFile,
  releaseJsonSchema,
  resolveRouting,
  rolledBack,
} from '../../src/domain/release.ts';
import { type ModelSignature } from '../../src/domain/model.ts';

/** The contract's example (issue 13). */
const CONTRACT_EXAMPLE = {
  serving: '2',
  candidate: '3',
  history: [
    {
      at: '2026-12-06T08:00:00Z',
      by: 'retrain-job',
      action: 'publish',
      version: '3',
      from: '2',
      reason: 'MAE 3.41 vs 3.62 on 2026-12-05 (n=1,204), CI of the difference [-0.29, -0.13]',
      report: 'reports/retrain/2026-12-06T08-00-00Z.json',
    },
  ],
};

describe('release.json schema', () => {
  it("reads the shared contract's example", () => {
    const release = parseRelease(JSON.stringify(CONTRACT_EXAMPLE));
    expect(release).toEqual(CONTRACT_EXAMPLE);
    // What the proxy's writer makes of it parses back to the same.
    expect(parseRelease(formatRelease(release))).toEqual(release);
  });

  it.each([
    ['not JSON', '{"serving": "2",', /not JSON/],
    ['an unknown key', JSON.stringify({ serving: '2', servng: '3' }), /Unrecognized key/],
    [
      'an unknown key in a history entry',
      JSON.stringify({ history: [{ ...CONTRACT_EXAMPLE.history[0], extra: 1 }] }),
      /history\.0/,
    ],
    [
      'a version that is no folder name',
      JSON.stringify({ serving: 'v2' }),
      /serving: expected a version number/,
    ],
    [
      'candidate equal to serving',
      JSON.stringify({ serving: '2', candidate: '2' }),
      /candidate: candidate and serving/,
    ],
    [
      'an unknown action',
      JSON.stringify({ history: [{ ...CONTRACT_EXAMPLE.history[0], action: 'deploy' }] }),
      /action/,
    ],
    [
      'a time without zone',
      JSON.stringify({ history: [{ ...CONTRACT_EXAMPLE.history[0], at: '2026-12-06 08:00' }] }),
      /history\.0\.at/,
    ],
    [
      'an empty reason',
      JSON.stringify({ history: [{ ...CONTRACT_EXAMPLE.history[0], reason: '' }] }),
      /reason/,
    ],
    ['an array', '[]', /\(file\)/],
  ])('refuses %s, saying where', (_, text, message) => {
    expect(() => parseRelease(text)).toThrow(message);
  });

  it('accepts an offset time as Python writes it, and a file without history', () => {
    expect(
      parseRelease(
        JSON.stringify({
          history: [{ ...CONTRACT_EXAMPLE.history[0], at: '2026-12-06T08:00:00.123456+00:00' }],
        }),
      ).history,
    ).toHaveLength(1);
    expect(parseRelease('{"serving": "1"}')).toEqual({ serving: '1', history: [] });
  });

  it('release.schema.json is the schema as JSON Schema (regenerate: node services/ml-proxy/src/cli/release-schema.ts)', async () => {
    const committed = JSON.parse(
      await readFile(new URL('../../release.schema.json', import.meta.url), 'utf8'),
    );
    expect(committed).toEqual(JSON.parse(JSON.stringify(releaseJsonSchema())));
  });
});

describe('routing: MODEL_SETTINGS and release.json', () => {
  const release = parseRelease(JSON.stringify(CONTRACT_EXAMPLE));

  it("serves the release's serving version and mirrors its candidate at the default share", () => {
    const r = resolveRouting({}, release);
    expect(r.preferred).toBe('2');
    expect(r.preferredFrom).toBe('release');
    expect(r.candidates).toEqual(new Set(['3']));
    expect(r.named).toEqual(new Set(['3']));
    expect(r.shadow).toEqual({ version: '3', ...DEFAULT_CANDIDATE_SHADOW });
  });

  it("lets MODEL_SETTINGS' defaultVersion and shadow win; the candidate stays a candidate", () => {
    const r = resolveRouting(
      { defaultVersion: '1', shadow: { version: '2', percent: 5, tolerance: 1 } },
      release,
    );
    expect(r.preferred).toBe('1');
    expect(r.preferredFrom).toBe('settings');
    expect(r.shadow).toEqual({ version: '2', percent: 5, tolerance: 1 });
    expect(r.candidates).toEqual(new Set(['2', '3']));
    expect(r.candidate).toBe('3');
  });

  it('follows the candidateShadow setting, and without a release serves the newest', () => {
    expect(resolveRouting({ candidateShadow: { percent: 100, tolerance: 0.1 } }, release).shadow).toEqual({
      version: '3',
      percent: 100,
      tolerance: 0.1,
    });
    const none = resolveRouting({}, undefined);
    expect(none.preferred).toBeUndefined();
    expect(none.shadow).toBeUndefined();
    expect(none.candidates.size).toBe(0);
  });
});

describe('promotion and rollback', () => {
  const change = { at: '2026-12-07T09:00:00Z', by: 'alice', reason: 'shadow clean, MAE better' };
  const published: ReleaseFile = parseRelease(JSON.stringify(CONTRACT_EXAMPLE));

  it('promote: the candidate serves, no candidate is left, the history says who, when, why and the figures', () => {
    const next = promoted(published, '2', {
      ...change,
      forced: false,
      rule: { comparisons: 1200, shadowErrors: 0 },
    });
    expect(next.serving).toBe('3');
    expect(next.candidate).toBeUndefined();
    expect(next.history.at(-1)).toEqual({
      ...change,
      action: 'promote',
      version: '3',
      from: '2',
      rule: { comparisons: 1200, shadowErrors: 0 },
    });
    expect(next.history.slice(0, -1)).toEqual(published.history);
  });

  it('rollback goes to what served before; a second rollback walks further back instead of undoing the first', () => {
    const promoted3 = promoted(published, '2', { ...change, forced: false, rule: {} });
    expect(previousServing(promoted3, '3')).toBe('2');
    const back = rolledBack(promoted3, '3', '2', change);
    expect(back).toMatchObject({ serving: '2' });
    expect(back.history.at(-1)).toMatchObject({ action: 'rollback', version: '2', from: '3' });
    // 2 served before 3 came; what served before 2 is not in this history.
    expect(previousServing(back, '2')).toBeUndefined();
    // 3 was published as 2's candidate: the publish entry says 2 served before it.
    expect(previousServing(published, '3')).toBe('2');
  });

  it('rollback keeps a candidate published meanwhile', () => {
    const next = rolledBack({ serving: '3', candidate: '4', history: [] }, '3', '2', change);
    expect(next).toMatchObject({ serving: '2', candidate: '4' });
  });

  it('knows when a version was published', () => {
    expect(publishedAt(published, '3')).toBe('2026-12-06T08:00:00Z');
    expect(publishedAt(published, '2')).toBeUndefined();
  });
});

describe('the promotion rule', () => {
  const serving = { version: '2', rows: 300, mae: 3.6, coverage: 0.79 };
  const good = {
    minComparisons: 1000,
    minRows: 200,
    shadow: { proxies: ['http://a'], comparisons: 1000, shadowErrors: 0 },
    accuracy: {
      since: '2026-12-06T08:00:00Z',
      serving,
      candidate: { version: '3', rows: 300, mae: 3.4, coverage: 0.81 },
    },
  };

  it('allows a candidate with enough clean comparisons that is not worse', () => {
    const { refusals, figures } = evaluatePromotion(good);
    expect(refusals).toEqual([]);
    expect(figures).toMatchObject({ comparisons: 1000, shadowErrors: 0, rows: 300, candidate: { mae: 3.4 } });
    // Equal accuracy is "not worse".
    expect(
      evaluatePromotion({ ...good, accuracy: { ...good.accuracy, candidate: { ...serving, version: '3' } } })
        .refusals,
    ).toEqual([]);
  });

  it.each([
    [
      'too few comparisons',
      { shadow: { ...good.shadow, comparisons: 999 } },
      /too few shadow comparisons: 999 of the 1000/,
    ],
    ['a shadow error', { shadow: { ...good.shadow, shadowErrors: 1 } }, /failed 1 shadow call/],
    // A broken exposition reads as NaN, which passes `<` and `>` checks alike: refused, never promoted.
    [
      'comparisons that are not a number',
      { shadow: { ...good.shadow, comparisons: Number.NaN } },
      /too few shadow comparisons: NaN/,
    ],
    [
      'shadow errors that are not a number',
      { shadow: { ...good.shadow, shadowErrors: Number.NaN } },
      /failed NaN shadow call/,
    ],
    [
      'too few rows',
      { accuracy: { ...good.accuracy, candidate: { ...good.accuracy.candidate, rows: 199 } } },
      /too few delivered orders/,
    ],
    [
      'a worse MAE',
      { accuracy: { ...good.accuracy, candidate: { ...good.accuracy.candidate, mae: 3.61 } } },
      /less accurate .* MAE 3\.610 vs 3\.600/,
    ],
    [
      'a worse coverage',
      { accuracy: { ...good.accuracy, candidate: { ...good.accuracy.candidate, coverage: 0.7 } } },
      /coverage 0\.700/,
    ],
    ['no proxy', { shadow: undefined }, /no proxy/],
    ['no rows', { accuracy: undefined }, /no delivered orders/],
  ])('refuses %s', (_, change, message) => {
    const { refusals } = evaluatePromotion({ ...good, ...change });
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatch(message);
  });

  it('scores MAE of p50 and p10-p90 coverage', () => {
    expect(accuracyOf('1', [10, 20], [8, 21], [11, 22], [12, 30])).toEqual({
      version: '1',
      rows: 2,
      mae: 1.5,
      coverage: 0.5,
    });
  });

  it('builds each version its tensor from the served features, leaving out rows either cannot take', () => {
    const sig = (names: [string, boolean][]): ModelSignature => ({
      input: { name: 'features', datatype: 'FP32', shape: [-1, names.length] },
      features: names.map(([name, nullable]) => ({ name, nullable, unit: null })),
      outputs: [],
    });
    const a = sig([
      ['distance_km', true],
      ['hour_of_day', false],
    ]);
    const b = sig([
      ['hour_of_day', false],
      ['distance_km', true],
    ]);
    const t = tensorsFor(
      [
        { features: { distance_km: 2.5, hour_of_day: 12 }, actualMinutes: 30 },
        { features: { distance_km: null, hour_of_day: 13 }, actualMinutes: 25 },
        { features: { distance_km: 1 }, actualMinutes: 20 }, // hour unknown: not allowed
        { features: { distance_km: '1', hour_of_day: 1 }, actualMinutes: 20 }, // not a number
      ],
      [a, b],
    );
    expect(t.skipped).toBe(2);
    expect(Array.from(t.actual)).toEqual([30, 25]);
    expect(Array.from(t.inputs[0]!)).toEqual([2.5, 12, Number.NaN, 13]);
    expect(Array.from(t.inputs[1]!)).toEqual([12, 2.5, 13, Number.NaN]);
  });

  it("reads shadow counters from a proxy's Prometheus text", () => {
    const text = [
      '# HELP ml_proxy_shadow_comparisons_total x',
      'ml_proxy_shadow_comparisons_total{model="eta-precise",version="3"} 40',
      'ml_proxy_shadow_comparisons_total{model="eta-precise",version="2"} 7',
      'ml_proxy_shadow_comparisons_total{model="eta-rough",version="3"} 5',
      'ml_proxy_shadow_comparisons_total_other{model="eta-precise",version="3"} 100',
    ].join('\n');
    expect(
      sumSamples(text, 'ml_proxy_shadow_comparisons_total', { model: 'eta-precise', version: '3' }),
    ).toBe(40);
    expect(sumSamples(text, 'ml_proxy_shadow_comparisons_total', { model: 'eta-precise' })).toBe(47);
    expect(sumSamples(text, 'ml_proxy_shadow_errors_total', {})).toBe(0);
  });
});
