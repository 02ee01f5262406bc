/**
 * The Kaggle food-delivery orders file (../shared/data/food-delivery-india/orders-train.csv.gz; provenance,
 * licence and caveats in ../shared/data/README.md) read into typed orders, with the same cleaning as the
 * model's own loader (ml/eta_models/data.py): `NaN ` means missing, labels are trimmed and lower-cased,
 * coordinate signs are repaired with abs(), sentinel riders (age 15 / rating 1, age 50 / rating 6) carry no
 * rider information, and a missing order time is the pickup time minus the median 10 minutes.
 *
 * The rows stay in memory: the licence is unclear, so nothing here writes them anywhere.
 */
import { gunzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import type { OrderType, RegionClass, VehicleType } from '@eta/contracts';
import { haversineM } from './geometry.ts';

export const DATASET_COLUMNS = [
  'ID',
  'Delivery_person_ID',
  'Delivery_person_Age',
  'Delivery_person_Ratings',
  'Restaurant_latitude',
  'Restaurant_longitude',
  'Delivery_location_latitude',
  'Delivery_location_longitude',
  'Order_Date',
  'Time_Orderd',
  'Time_Order_picked',
  'Weatherconditions',
  'Road_traffic_density',
  'Vehicle_condition',
  'Type_of_order',
  'Type_of_vehicle',
  'multiple_deliveries',
  'Festival',
  'City',
  'Time_taken(min)',
] as const;
type Column = (typeof DATASET_COLUMNS)[number];

/** Pickup - order is always 5, 10 or 15 minutes in the data; 10 (the median) stands in when the order time is missing. */
export const MEDIAN_PREP_MINUTES = 10;

const DAY_S = 86_400;

/** One usable order of the file, cleaned. Times are seconds of the (dataset's local) day. */
export interface DatasetOrder {
  /** `ID` trimmed, e.g. `0x4607`. */
  readonly id: string;
  /** The rider as the file names them (`Delivery_person_ID` trimmed), for `rider-assigned`. */
  readonly riderId: string | null;
  /** The restaurant's repaired coordinates, 6 decimals: one key per restaurant of the file. */
  readonly restaurantKey: string;
  /** Haversine restaurant -> delivery location, metres (repaired coordinates). */
  readonly distanceM: number;
  /** `City` mapped to the suite's classes; null when the file says NaN. */
  readonly regionClass: RegionClass | null;
  /** When the order was placed, seconds since midnight (from the pickup time when `Time_Orderd` is NaN). */
  readonly orderedAtS: number;
  /** False when `Time_Orderd` was missing and the median preparation was assumed. */
  readonly orderTimeKnown: boolean;
  /** Pickup - order in minutes (5, 10 or 15 in this file). */
  readonly prepMinutes: number;
  /** `Time_taken(min)`: minutes from order to delivery (the contract's `actualMinutes`). */
  readonly actualMinutes: number;
  readonly orderType: OrderType | null;
  readonly vehicleType: VehicleType | null;
  readonly vehicleCondition: number | null;
  readonly riderAge: number | null;
  readonly riderRating: number | null;
  readonly multipleDeliveries: number | null;
  readonly festival: boolean | null;
}

export const SKIP_REASONS = [
  /** Restaurant at (0, 0) (caveat 3): no distance to keep. */
  'no-geometry',
  /** `Time_taken(min)` missing or not a positive number. */
  'no-target',
  /** Neither an order nor a pickup time. */
  'no-time',
  /** Wrong number of fields, or an ID that is not a valid order id. */
  'malformed',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface ParsedDataset {
  readonly orders: readonly DatasetOrder[];
  readonly rowsRead: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
}

const CITY_TO_REGION: Readonly<Record<string, RegionClass>> = {
  metropolitian: 'metropolitan',
  metropolitan: 'metropolitan',
  urban: 'urban',
  'semi-urban': 'semi-urban',
};
const ORDER_TYPES: Readonly<Record<string, OrderType>> = {
  snack: 'snack',
  meal: 'meal',
  drinks: 'drinks',
  buffet: 'buffet',
};
const VEHICLES: Readonly<Record<string, VehicleType>> = {
  motorcycle: 'motorcycle',
  scooter: 'scooter',
  electric_scooter: 'electric_scooter',
  bicycle: 'bicycle',
};
const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** Trimmed, lower-cased; null for the file's missing markers. */
function text(raw: string | undefined): string | null {
  const s = (raw ?? '').trim().toLowerCase();
  return s === '' || s === 'nan' || s === 'none' || s === 'null' ? null : s;
}

function num(raw: string | undefined): number | null {
  const s = text(raw);
  if (s === null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

/** `HH:MM:SS` (or `HH:MM`) to seconds since midnight; null when missing or malformed. */
export function parseClock(raw: string | undefined): number | null {
  const s = text(raw);
  if (s === null) return null;
  const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m === null) return null;
  const [h, min, sec] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || min > 59 || sec > 59) return null;
  return h * 3600 + min * 60 + sec;
}

function labelled<T>(raw: string | undefined, table: Readonly<Record<string, T>>): T | null {
  const s = text(raw);
  return s === null ? null : (table[s] ?? null);
}

/** One data line (no header) to an order, or the reason it cannot be replayed. */
export function parseOrderRow(fields: readonly string[]): DatasetOrder | SkipReason {
  if (fields.length !== DATASET_COLUMNS.length) return 'malformed';
  const f = (c: Column) => fields[DATASET_COLUMNS.indexOf(c)];
  const id = (f('ID') ?? '').trim();
  if (id.length === 0 || id.length > 40 || !ORDER_ID.test(id)) return 'malformed';

  // Coordinates: negative signs are a data error (caveat 4); a restaurant near (0, 0) has no geometry.
  const coords = [
    f('Restaurant_latitude'),
    f('Restaurant_longitude'),
    f('Delivery_location_latitude'),
    f('Delivery_location_longitude'),
  ].map((v) => {
    const n = num(v);
    return n === null ? null : Math.abs(n);
  });
  const [rLat, rLng, dLat, dLng] = coords;
  if (rLat == null || rLng == null || dLat == null || dLng == null) return 'no-geometry';
  if (rLat < 1 || rLng < 1 || dLat < 1 || dLng < 1) return 'no-geometry';

  const target = text(f('Time_taken(min)'))?.replace(/^\(min\)\s*/, '');
  const actualMinutes = target === undefined ? NaN : Number(target);
  if (!Number.isFinite(actualMinutes) || actualMinutes <= 0) return 'no-target';

  const ordered = parseClock(f('Time_Orderd'));
  const picked = parseClock(f('Time_Order_picked'));
  if (picked === null) return 'no-time';
  const orderedAtS = ordered ?? (picked - MEDIAN_PREP_MINUTES * 60 + DAY_S) % DAY_S;
  // A pickup after midnight of an order before it (23:55 -> 00:05) wraps.
  const prepMinutes = ordered === null ? MEDIAN_PREP_MINUTES : ((picked - ordered + DAY_S) % DAY_S) / 60;

  const age = num(f('Delivery_person_Age'));
  const rating = num(f('Delivery_person_Ratings'));
  // Sentinel-looking riders (caveat 8) and values outside the estimate API's ranges carry no rider information.
  const sentinel = (age === 15 && rating === 1) || (age === 50 && rating === 6);
  const riderAge = sentinel || age === null || !Number.isInteger(age) || age < 18 || age > 65 ? null : age;
  const riderRating = sentinel || rating === null || rating < 1 || rating > 5 ? null : rating;
  const condition = num(f('Vehicle_condition'));
  const multiple = num(f('multiple_deliveries'));
  const festival = text(f('Festival'));

  return {
    id,
    riderId: (f('Delivery_person_ID') ?? '').trim().slice(0, 64) || null,
    restaurantKey: `${rLat.toFixed(6)},${rLng.toFixed(6)}`,
    distanceM: haversineM(rLat, rLng, dLat, dLng),
    regionClass: labelled(f('City'), CITY_TO_REGION),
    orderedAtS,
    orderTimeKnown: ordered !== null,
    prepMinutes,
    actualMinutes,
    orderType: labelled(f('Type_of_order'), ORDER_TYPES),
    vehicleType: labelled(f('Type_of_vehicle'), VEHICLES),
    vehicleCondition:
      condition !== null && Number.isInteger(condition) && condition >= 0 && condition <= 3
        ? condition
        : null,
    riderAge,
    riderRating,
    multipleDeliveries:
      multiple !== null && Number.isInteger(multiple) && multiple >= 0 && multiple <= 3 ? multiple : null,
    festival: festival === 'yes' ? true : festival === 'no' ? false : null,
  };
}

/**
 * The whole file's text (header first; CRLF or LF) to its usable orders. The file has no quoted fields, so
 * a line is split on commas; a header that is not the documented one is an error, not a guess.
 */
export function parseOrdersCsv(csv: string): ParsedDataset {
  const lines = csv.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  if (header.length !== DATASET_COLUMNS.length || header.some((h, i) => h !== DATASET_COLUMNS[i])) {
    throw new Error(`not the orders file: its header is not ${DATASET_COLUMNS.join(',')}`);
  }
  const skipped: Record<SkipReason, number> = {
    'no-geometry': 0,
    'no-target': 0,
    'no-time': 0,
    malformed: 0,
  };
  const orders: DatasetOrder[] = [];
  const seen = new Set<string>();
  let rowsRead = 0;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    rowsRead++;
    const parsed = parseOrderRow(line.split(','));
    if (typeof parsed === 'string') skipped[parsed]++;
    // Order ids name an order everywhere downstream: a repeated id would merge two orders.
    else if (seen.has(parsed.id)) skipped.malformed++;
    else {
      seen.add(parsed.id);
      orders.push(parsed);
    }
  }
  return { orders, rowsRead, skipped };
}

/** Reads the gzip-compressed (or plain) orders file. */
export async function readOrdersFile(path: string): Promise<ParsedDataset> {
  const bytes = await readFile(path);
  const gz = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return parseOrdersCsv((gz ? gunzipSync(bytes) : bytes).toString('utf8'));
}
