/**
 * The feature vectors of the two ETA models, as the BFF builds them. The layout (names, order, nullability,
 * categorical codes) is copied from ml/models/<name>/<version>/metadata.json (the same in every shipped version)
 * and checked twice: a unit test compares it with each version's file (codes included), and at start the ML proxy's own metadata is compared with it
 * (names, order, nullability), so a model with another layout is refused instead of fed shifted columns.
 */
import type { OrderType, VehicleType } from '@eta/contracts';
import type { RegionClass } from './stores.ts';

export type ModelName = 'eta-precise' | 'eta-rough';

export interface FeatureSpec {
  readonly name: string;
  readonly nullable: boolean;
  /** Categorical codes (label -> integer code), as in metadata.json `encoding`. */
  readonly encoding?: Readonly<Record<string, number>>;
}

const REGION_CLASS_CODES = { semi_urban: 0, urban: 1, metropolitan: 2 } as const;
const ORDER_TYPE_CODES = { snack: 0, meal: 1, drinks: 2, buffet: 3 } as const;
const VEHICLE_TYPE_CODES = { bicycle: 0, electric_scooter: 1, scooter: 2, motorcycle: 3 } as const;

const ROUGH_FEATURES: readonly FeatureSpec[] = [
  { name: 'distance_km', nullable: true },
  { name: 'hour_of_day', nullable: false },
  { name: 'day_of_week', nullable: false },
  { name: 'region_class', nullable: true, encoding: REGION_CLASS_CODES },
  { name: 'order_type', nullable: false, encoding: ORDER_TYPE_CODES },
  {
    name: 'weather',
    nullable: true,
    encoding: { sunny: 0, cloudy: 1, windy: 2, fog: 3, stormy: 4, sandstorms: 5 },
  },
  { name: 'road_traffic', nullable: true, encoding: { low: 0, medium: 1, high: 2, jam: 3 } },
];

const PRECISE_FEATURES: readonly FeatureSpec[] = [
  ...ROUGH_FEATURES,
  { name: 'rider_age', nullable: true },
  { name: 'rider_rating', nullable: true },
  { name: 'vehicle_type', nullable: true, encoding: VEHICLE_TYPE_CODES },
  { name: 'vehicle_condition', nullable: true },
  { name: 'multiple_deliveries', nullable: true },
  { name: 'festival', nullable: true, encoding: { no: 0, yes: 1 } },
];

export const MODEL_LAYOUTS: Readonly<Record<ModelName, readonly FeatureSpec[]>> = {
  'eta-rough': ROUGH_FEATURES,
  'eta-precise': PRECISE_FEATURES,
};

/** The V2 input tensor name both models take. */
export const MODEL_INPUT_NAME = 'features';
export const MODEL_OUTPUTS = ['p10', 'p50', 'p90'] as const;

/** One row as sent over V2 JSON, where `null` stands for NaN (unknown) and is only used where nullable. */
export type FeatureRow = (number | null)[];

/** A model's metadata as the ML proxy reports it (`GET /v2/models/<name>`), reduced to what is compared. */
export interface RemoteModelLayout {
  readonly inputs: readonly {
    readonly name: string;
    readonly datatype: string;
    readonly shape: readonly number[];
  }[];
  readonly outputs: readonly { readonly name: string }[];
  readonly features: readonly { readonly name: string; readonly nullable: boolean }[];
}

/** Every way the served model disagrees with the layout this code builds; empty when they agree. */
export function layoutDisagreements(model: ModelName, remote: RemoteModelLayout): string[] {
  const expected = MODEL_LAYOUTS[model];
  const problems: string[] = [];
  const input = remote.inputs.find((i) => i.name === MODEL_INPUT_NAME);
  if (input === undefined) problems.push(`no input named '${MODEL_INPUT_NAME}'`);
  else {
    if (input.datatype !== 'FP32') problems.push(`input datatype ${input.datatype}, expected FP32`);
    const width = input.shape[1];
    if (width !== expected.length) problems.push(`input width ${String(width)}, expected ${expected.length}`);
  }
  for (const name of MODEL_OUTPUTS) {
    if (!remote.outputs.some((o) => o.name === name)) problems.push(`no output '${name}'`);
  }
  if (remote.features.length !== expected.length) {
    problems.push(`${remote.features.length} features, expected ${expected.length}`);
  }
  expected.forEach((spec, i) => {
    const got = remote.features[i];
    if (got === undefined) return;
    if (got.name !== spec.name) problems.push(`feature ${i} is '${got.name}', expected '${spec.name}'`);
    // A model that may not take NaN where this code sends null would answer 400 for every such row.
    else if (got.nullable !== spec.nullable) {
      problems.push(`feature ${i} '${spec.name}' nullable=${got.nullable}, expected ${spec.nullable}`);
    }
  });
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Time in Seoul

/** Korea has kept UTC+9 all year since 1988 (no daylight saving), so a fixed offset is exact. */
const SEOUL_OFFSET_MS = 9 * 3_600_000;

export interface SeoulTime {
  /** 0-23 */
  readonly hour: number;
  /** ISO weekday minus one: 0 = Monday ... 6 = Sunday, as the models were trained. */
  readonly dayOfWeek: number;
}

export function seoulTime(at: Date): SeoulTime {
  const local = new Date(at.getTime() + SEOUL_OFFSET_MS);
  const sundayFirst = local.getUTCDay();
  return { hour: local.getUTCHours(), dayOfWeek: (sundayFirst + 6) % 7 };
}

// ---------------------------------------------------------------------------------------------------
// Rows

export interface RoughInputs {
  readonly distanceKm: number | null;
  readonly time: SeoulTime;
  readonly regionClass: RegionClass | null;
  readonly orderType: OrderType;
}

/** Rider and trip facts; null = not known (no rider assigned yet, order details not given), sent as NaN. */
export interface PreciseInputs extends RoughInputs {
  readonly riderAge: number | null;
  readonly riderRating: number | null;
  readonly vehicleType: VehicleType | null;
  readonly vehicleCondition: number | null;
  readonly multipleDeliveries: number | null;
  readonly festival: boolean | null;
}

function regionCode(rc: RegionClass | null): number | null {
  if (rc === null) return null;
  // Geo and the catalogue say `semi-urban`; the model's label is `semi_urban`.
  return rc === 'semi-urban' ? REGION_CLASS_CODES.semi_urban : REGION_CLASS_CODES[rc];
}

/** The model was trained on 0-30 km; a longer trip is not one it can estimate, so it counts as unknown. */
function distanceFeature(km: number | null): number | null {
  return km === null || !Number.isFinite(km) || km < 0 || km > 30 ? null : km;
}

export function roughRow(x: RoughInputs): FeatureRow {
  return [
    distanceFeature(x.distanceKm),
    x.time.hour,
    x.time.dayOfWeek,
    regionCode(x.regionClass),
    ORDER_TYPE_CODES[x.orderType],
    null, // weather: no feed yet
    null, // road traffic: no feed yet
  ];
}

export function preciseRow(x: PreciseInputs): FeatureRow {
  return [
    ...roughRow(x),
    x.riderAge,
    x.riderRating,
    x.vehicleType === null ? null : VEHICLE_TYPE_CODES[x.vehicleType],
    x.vehicleCondition,
    x.multipleDeliveries,
    x.festival === null ? null : x.festival ? 1 : 0,
  ];
}
