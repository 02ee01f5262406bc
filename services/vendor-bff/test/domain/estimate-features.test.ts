import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  layoutDisagreements,
  MODEL_LAYOUTS,
  preciseRow,
  roughRow,
  seoulTime,
  type ModelName,
} from '../../src/domain/features.ts';
import { MODEL_REPOSITORY, shippedVersions } from '../model-versions.ts';

interface MetaFeature {
  readonly index: number;
  readonly name: string;
  readonly nullable: boolean;
  readonly encoding?: Record<string, number>;
}

function metadata(
  model: ModelName,
  version: string,
): { features: MetaFeature[]; input: { shape: number[] } } {
  const url = new URL(`${model}/${version}/metadata.json`, MODEL_REPOSITORY);
  return JSON.parse(readFileSync(url, 'utf8')) as { features: MetaFeature[]; input: { shape: number[] } };
}

/** Every shipped version of both models: the ML proxy serves the newest and can be pinned to any. */
const SHIPPED = (['eta-rough', 'eta-precise'] as const).flatMap((model) =>
  shippedVersions(model).map((version) => [model, version] as const),
);

describe('model layouts', () => {
  // The serving check compares names, order and nullability with the proxy; the codes are only in the
  // training metadata, so this test is what keeps them honest.
  it('finds every shipped version', () => {
    expect(SHIPPED.length).toBeGreaterThanOrEqual(2);
  });

  it.each(SHIPPED)('%s version %s matches ml/models metadata, codes included', (model, version) => {
    const meta = metadata(model, version);
    const ours = MODEL_LAYOUTS[model];
    expect(ours.length).toBe(meta.input.shape[1]);
    expect(ours.map((f) => f.name)).toEqual(
      [...meta.features].sort((a, b) => a.index - b.index).map((f) => f.name),
    );
    meta.features.forEach((f) => {
      const spec = ours[f.index]!;
      expect(spec.nullable, f.name).toBe(f.nullable);
      expect(spec.encoding, f.name).toEqual(f.encoding);
    });
  });

  it('reports every disagreement with a served layout', () => {
    const features = MODEL_LAYOUTS['eta-rough'].map((f) => ({ name: f.name, nullable: f.nullable }));
    const agree = {
      inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 7] }],
      outputs: [{ name: 'p10' }, { name: 'p50' }, { name: 'p90' }],
      features,
    };
    expect(layoutDisagreements('eta-rough', agree)).toEqual([]);
    const swapped = [features[1]!, features[0]!, ...features.slice(2)];
    const problems = layoutDisagreements('eta-rough', {
      ...agree,
      features: swapped,
      outputs: [{ name: 'p50' }],
    });
    expect(problems).toContain("feature 0 is 'hour_of_day', expected 'distance_km'");
    expect(problems).toContain("no output 'p10'");
    expect(layoutDisagreements('eta-precise', agree)).toContain('input width 7, expected 13');
  });
});

describe('seoulTime', () => {
  it('takes hour and ISO weekday in Asia/Seoul (UTC+9), across the date line', () => {
    // Wednesday 15:30 UTC is Thursday 00:30 in Seoul.
    expect(seoulTime(new Date('2026-11-25T15:30:00Z'))).toEqual({ hour: 0, dayOfWeek: 3 });
    // Sunday 20:00 in Seoul.
    expect(seoulTime(new Date('2026-11-29T20:00:00+09:00'))).toEqual({ hour: 20, dayOfWeek: 6 });
    // Monday 08:00 in Seoul.
    expect(seoulTime(new Date('2026-11-29T23:00:00Z'))).toEqual({ hour: 8, dayOfWeek: 0 });
  });
});

describe('rows', () => {
  const time = { hour: 12, dayOfWeek: 2 };

  it('encodes categoricals with the training codes and unknowns as null', () => {
    expect(roughRow({ distanceKm: 2.5, time, regionClass: 'semi-urban', orderType: 'buffet' })).toEqual([
      2.5,
      12,
      2,
      0,
      3,
      null,
      null,
    ]);
    expect(roughRow({ distanceKm: 2.5, time, regionClass: null, orderType: 'snack' })[3]).toBeNull();
  });

  it('treats a distance outside the trained 0-30 km as unknown', () => {
    expect(roughRow({ distanceKm: 31, time, regionClass: 'urban', orderType: 'meal' })[0]).toBeNull();
    expect(roughRow({ distanceKm: Number.NaN, time, regionClass: 'urban', orderType: 'meal' })[0]).toBeNull();
  });

  it('puts the precise-only features after the rough ones, in metadata order', () => {
    const row = preciseRow({
      distanceKm: 2.5,
      time,
      regionClass: 'metropolitan',
      orderType: 'meal',
      riderAge: 26,
      riderRating: 4.8,
      vehicleType: 'scooter',
      vehicleCondition: 2,
      multipleDeliveries: 0,
      festival: false,
    });
    // golden.json's first eta-precise case, built from named inputs.
    expect(row).toEqual([2.5, 12, 2, 2, 1, null, null, 26, 4.8, 2, 2, 0, 0]);
  });

  it('sends an unknown rider and trip as null (NaN), not as an assumed rider', () => {
    const row = preciseRow({
      distanceKm: 4,
      time,
      regionClass: 'metropolitan',
      orderType: 'meal',
      riderAge: null,
      riderRating: null,
      vehicleType: null,
      vehicleCondition: null,
      multipleDeliveries: null,
      festival: null,
    });
    expect(row.slice(7)).toEqual([null, null, null, null, null, null]);
    // Every column sent as null must be one the model was trained with NaN for.
    MODEL_LAYOUTS['eta-precise'].forEach((spec, i) => {
      if (row[i] === null) expect(spec.nullable, spec.name).toBe(true);
    });
  });
});
