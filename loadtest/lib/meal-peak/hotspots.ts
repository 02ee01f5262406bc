/**
 * Where the meal-peak customers are: around Seoul's subway stations, each weighted by the people arriving
 * there (the station table's total inflow: subway plus bus alightings within 500 m), a destination drawn as
 * a station by weight, then a point uniformly inside a disc of the jitter radius around it, kept only when it
 * is inside the service area (redrawn otherwise). The weights are derived once (build-data.ts) and committed
 * as loadtest/meal-peak/hot-spots.json; the station table itself is not (no licence).
 */
import { cdfIndex } from '../mix.ts';

export const HOT_SPOTS_FORMAT = 'eta-meal-peak-hot-spots/1';

export interface HotSpot {
  readonly name: string;
  readonly lat: number;
  readonly lng: number;
  /** Share of the destinations drawn around this station; all weights sum to 1. */
  readonly weight: number;
}

export interface HotSpotsFile {
  readonly format: typeof HOT_SPOTS_FORMAT;
  readonly source: Readonly<Record<string, string>>;
  readonly method: string;
  readonly rows: {
    readonly total: number;
    readonly outside: number;
    readonly invalid: number;
    readonly used: number;
  };
  readonly spots: readonly HotSpot[];
}

export type InArea = (lat: number, lng: number) => boolean;

export const HOT_SPOTS_METHOD =
  "stations of the table inside Seoul's service area (Geo's dong polygons; the others are Gyeonggi/Incheon " +
  'stations), each weighted by its total inflow (총_유입_인구: subway alightings plus bus alightings within ' +
  '500 m, as the source computed it) over the sum of all kept stations; positions rounded to 4 decimals ' +
  '(about 10 m), weights to 4 significant digits';

function parseCsvLine(line: string): string[] {
  return line.split(',').map((c) => c.trim());
}

/** Station weights from the station table's CSV text; `inArea` says which stations are in the service area. */
export function deriveHotSpots(
  csv: string,
  inArea: InArea,
): { spots: HotSpot[]; rows: HotSpotsFile['rows'] } {
  const lines = csv
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const header = parseCsvLine(lines[0] ?? '');
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`column ${name} is not in the header (${header.join(', ')})`);
    return i;
  };
  const [iName, iLat, iLng, iInflow] = [col('정제역명'), col('위도'), col('경도'), col('총_유입_인구')];
  const kept: { name: string; lat: number; lng: number; inflow: number }[] = [];
  let outside = 0;
  let invalid = 0;
  for (const line of lines.slice(1)) {
    const cells = parseCsvLine(line);
    const lat = Number(cells[iLat]);
    const lng = Number(cells[iLng]);
    const inflow = Number(cells[iInflow]);
    if (cells.length !== header.length || ![lat, lng, inflow].every(Number.isFinite) || inflow < 0) {
      invalid += 1;
      continue;
    }
    if (!inArea(lat, lng)) {
      outside += 1;
      continue;
    }
    kept.push({ name: cells[iName]!, lat, lng, inflow });
  }
  const total = kept.reduce((a, s) => a + s.inflow, 0);
  if (!(total > 0)) throw new Error('no station with inflow inside the service area');
  const spots = kept
    .map((s) => ({
      name: s.name,
      lat: Number(s.lat.toFixed(4)),
      lng: Number(s.lng.toFixed(4)),
      weight: Number((s.inflow / total).toPrecision(4)),
    }))
    .sort((a, b) => b.weight - a.weight || a.name.localeCompare(b.name));
  return { spots, rows: { total: lines.length - 1, outside, invalid, used: kept.length } };
}

export function parseHotSpots(raw: unknown): HotSpotsFile {
  const f = raw as Partial<HotSpotsFile>;
  if (f.format !== HOT_SPOTS_FORMAT) throw new Error(`hot spots: format must be ${HOT_SPOTS_FORMAT}`);
  if (!Array.isArray(f.spots) || f.spots.length === 0) throw new Error('hot spots: no spots');
  for (const s of f.spots) {
    if (![s.lat, s.lng, s.weight].every((v) => typeof v === 'number' && Number.isFinite(v)) || s.weight < 0) {
      throw new Error(`hot spots: bad spot ${JSON.stringify(s)}`);
    }
  }
  return f as HotSpotsFile;
}

const M_PER_DEG_LAT = 111_320;

/** A point uniformly inside the disc of radius `radiusM` around (lat, lng), 6 decimals. */
export function jitter(
  lat: number,
  lng: number,
  radiusM: number,
  random: () => number,
): { lat: number; lng: number } {
  const r = radiusM * Math.sqrt(random());
  const theta = 2 * Math.PI * random();
  const dLat = (r * Math.cos(theta)) / M_PER_DEG_LAT;
  const dLng = (r * Math.sin(theta)) / (M_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180));
  return { lat: Number((lat + dLat).toFixed(6)), lng: Number((lng + dLng).toFixed(6)) };
}

export interface HotSpotDraw {
  readonly lat: number;
  readonly lng: number;
  /** Index of the station in the spots list. */
  readonly spot: number;
}

/** Draws destinations around the hot spots, inside the service area. */
export class HotSpotSampler {
  readonly spots: readonly HotSpot[];
  readonly radiusM: number;
  readonly #cdf: Float64Array;
  readonly #inArea: InArea;
  readonly #maxTries: number;

  constructor(spots: readonly HotSpot[], opts: { radiusM: number; inArea: InArea; maxTries?: number }) {
    if (spots.length === 0) throw new Error('no hot spots');
    if (!(opts.radiusM >= 0) || !Number.isFinite(opts.radiusM)) throw new Error('jitter radius must be >= 0');
    const inside = spots.filter((s) => opts.inArea(s.lat, s.lng));
    if (inside.length !== spots.length) {
      throw new Error(`${spots.length - inside.length} hot spots lie outside the service area`);
    }
    this.spots = spots;
    this.radiusM = opts.radiusM;
    this.#inArea = opts.inArea;
    this.#maxTries = opts.maxTries ?? 20;
    const cdf = new Float64Array(spots.length);
    let acc = 0;
    spots.forEach((s, i) => {
      acc += s.weight;
      cdf[i] = acc;
    });
    if (!(acc > 0)) throw new Error('hot spot weights sum to 0');
    for (let i = 0; i < cdf.length; i++) cdf[i]! /= acc;
    cdf[cdf.length - 1] = 1;
    this.#cdf = cdf;
  }

  spotIndex(u: number): number {
    return cdfIndex(this.#cdf, u);
  }

  /**
   * A destination: a station by weight, then a point of its disc inside the service area. After
   * `maxTries` points outside (a station at the city limit with a large radius), the station itself, which
   * is inside: never a destination the BFF refuses with 422.
   */
  sample(random: () => number): HotSpotDraw {
    const spot = this.spotIndex(random());
    const s = this.spots[spot]!;
    for (let t = 0; t < this.#maxTries; t++) {
      const p = jitter(s.lat, s.lng, this.radiusM, random);
      if (this.#inArea(p.lat, p.lng)) return { ...p, spot };
    }
    return { lat: s.lat, lng: s.lng, spot };
  }
}
