/**
 * What each role is sent, and what counts as an answer:
 * - BFF precise and rough, cold: a fresh uniform destination in Seoul and uniform stores on every request
 *   (lib/estimates.ts, as bff-chain sends them), so the rough cache, keyed by store, H3 cell and time bucket,
 *   rarely has the answer;
 * - BFF precise and rough, warm: the meal-peak mix (lib/meal-peak/requests.ts): Zipf store popularity and
 *   destinations around the subway stations people arrive at, what production's caches see;
 * - BFF admin: store owners reading their stores' settings, each owner a JWT of its own (round robin, so no
 *   owner goes past the admin API's per-subject rate limit);
 * - Geo and the ML proxy: the calls the BFF makes, the precise path's (one pair; one eta-precise row) and
 *   the rough path's on a cache miss (one cell centre to the destination and pageSize stores; pageSize
 *   eta-rough rows), in the proportion of the meal-peak mix.
 * An estimate counts as ok only when it is not degraded (lib/estimates.ts): a fallback is a failure here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminPaths } from '@eta/contracts';
import { preciseAnswered, preciseMix, roughAnswered, roughMix, seoulPoint } from '../estimates.ts';
import type { MixEntry, RequestSpec, ResponseInfo } from '../mix.ts';
import type { HotSpotSampler } from '../meal-peak/hotspots.ts';
import { DEFAULT_MIX } from '../meal-peak/options.ts';
import { seoulDate, slotMix, type RouteLog } from '../meal-peak/requests.ts';
import type { StorePopularity } from '../meal-peak/zipf.ts';
import type { CacheCase, CapacityOptions } from './options.ts';

export interface RoleLoad {
  readonly mix: readonly MixEntry[];
  readonly check: (res: ResponseInfo, req: RequestSpec) => boolean;
  /** One line for the header: what is sent. */
  readonly describe: string;
}

interface EstimateItem {
  readonly storeId?: number;
  readonly source?: string;
  readonly degraded?: boolean;
}

/**
 * The same verdict as `check`, but a refused answer says why in the run's error sample (the generator shows
 * the first 200 characters of a refused body, which for a store list rarely reaches the bad estimate).
 */
export function explained(check: (res: { body: string }) => boolean): (res: { body: string }) => boolean {
  return (res) => {
    if (check(res)) return true;
    const body = JSON.parse(res.body) as EstimateItem & { estimates?: EstimateItem[] };
    const items = body.estimates ?? [body];
    const bad = items.filter(
      (e) => e.degraded !== false || (e.source !== 'model' && e.source !== 'rough' && e.source !== 'manual'),
    );
    const first = bad[0];
    throw new Error(
      first === undefined
        ? `${items.length} estimates, none degraded, but the answer is not what was asked`
        : `${bad.length} of ${items.length} estimates degraded or not from the model (first: store ${first.storeId ?? '?'}, source ${first.source ?? '?'}, degraded ${String(first.degraded)})`,
    );
  };
}

/** Minute of the day on Seoul's clock (UTC+9, no daylight saving). */
export function seoulMinuteOfDay(at: Date): number {
  return Math.floor(((at.getTime() / 60_000 + 9 * 60) % 1440) + 1440) % 1440;
}

export interface WarmDeps {
  readonly stores: StorePopularity;
  readonly spots: HotSpotSampler;
}

/** The BFF's estimate routes. `requests`: how many the step sends (the meal-peak mix spreads orderedAt over them). */
export function estimateLoad(
  route: 'precise' | 'rough',
  cache: CacheCase,
  headers: Record<string, string>,
  o: Pick<CapacityOptions, 'pageSize' | 'stores'>,
  warm: WarmDeps | null,
  requests: number,
  now = new Date(),
): RoleLoad {
  const check = explained(route === 'precise' ? preciseAnswered : roughAnswered(o.pageSize));
  if (cache === 'cold') {
    return route === 'precise'
      ? {
          mix: preciseMix(headers, o.stores),
          check,
          describe: `precise, store uniform in 1..${o.stores}, a fresh uniform destination in Seoul each time`,
        }
      : {
          mix: roughMix(headers, o.stores, o.pageSize),
          check,
          describe: `rough, ${o.pageSize} stores uniform in 1..${o.stores}, a fresh uniform destination each time`,
        };
  }
  if (warm === null) throw new Error('the warm-cache mix needs the store popularity and the hot spots');
  // The meal-peak mix's entries of this route only, in its proportions (detail and checkout for precise).
  const weights =
    route === 'precise'
      ? { rough: 0, detail: DEFAULT_MIX.detail, checkout: DEFAULT_MIX.checkout, admin: 0 }
      : { rough: 1, detail: 0, checkout: 0, admin: 0 };
  const routes: RouteLog = [];
  const mix = slotMix(
    {
      serviceHeaders: headers,
      owners: [],
      stores: warm.stores,
      spots: warm.spots,
      pageSize: o.pageSize,
      weights,
    },
    // orderedAt: the Seoul time of now, spread over the next 15 minutes as the meal-peak scenario spreads a slot.
    { date: seoulDate(now), startMinute: seoulMinuteOfDay(now), minutes: 15, count: Math.max(1, requests) },
    routes,
  );
  return {
    mix,
    check,
    describe:
      route === 'precise'
        ? `meal-peak precise (detail ${DEFAULT_MIX.detail} : checkout ${DEFAULT_MIX.checkout}), Zipf stores, hot-spot destinations`
        : `meal-peak rough, ${o.pageSize} stores by Zipf popularity, hot-spot destinations`,
  };
}

export interface Owner {
  readonly token: string;
  readonly storeIds: readonly number[];
}

/** Settings reads (GET /v1/stores/{id}/settings), owner after owner, each on one of its own stores. */
export function adminLoad(owners: readonly Owner[]): RoleLoad {
  if (owners.length === 0) throw new Error('admin load needs at least one owner');
  return {
    mix: [
      {
        name: 'settings',
        weight: 1,
        build: ({ i, random }) => {
          const owner = owners[i % owners.length]!;
          const id = owner.storeIds[Math.floor(random() * owner.storeIds.length)]!;
          return {
            method: 'GET',
            path: adminPaths.settings(id),
            headers: { authorization: `Bearer ${owner.token}` },
          };
        },
      },
    ],
    check: (res) =>
      typeof (JSON.parse(res.body) as { autoPrediction?: unknown }).autoPrediction === 'boolean',
    describe: `GET /v1/stores/{id}/settings, ${owners.length} store owners in turn (owner JWTs)`,
  };
}

/** Owners needed so that none asks faster than `perOwnerPerSecond` at `maxRate`. */
export function ownersFor(maxRate: number, perOwnerPerSecond: number): number {
  return Math.max(1, Math.ceil(maxRate / perOwnerPerSecond));
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** The entries with a weight: a call kind weighted 0 is left out. */
const weighted = (entries: MixEntry[]): MixEntry[] => entries.filter((e) => e.weight > 0);

/** Geo: the precise path's pair call and the rough path's batch call (a cache miss), by `callMix`. */
export function geoLoad(o: Pick<CapacityOptions, 'pageSize' | 'callMix'>): RoleLoad {
  const n = o.pageSize + 1;
  return {
    mix: weighted([
      {
        name: 'pair',
        weight: o.callMix.precise,
        build: ({ random }) => ({
          method: 'POST',
          path: '/v1/features',
          headers: JSON_HEADERS,
          body: JSON.stringify({ origin: seoulPoint(random), destination: seoulPoint(random) }),
        }),
      },
      {
        name: 'batch',
        weight: o.callMix.rough,
        build: ({ random }) => ({
          method: 'POST',
          path: '/v1/features/batch',
          headers: JSON_HEADERS,
          body: JSON.stringify({
            origin: seoulPoint(random),
            destinations: Array.from({ length: n }, () => seoulPoint(random)),
          }),
        }),
      },
    ]),
    check: (res, req) => {
      if (req.path === '/v1/features') return res.body.includes('"distanceM"');
      const body = JSON.parse(res.body) as { results?: unknown[]; errors?: number };
      return body.errors === 0 && body.results?.length === n;
    },
    describe:
      `POST /v1/features (one pair) : POST /v1/features/batch (1 origin, ${n} destinations) = ` +
      `${o.callMix.precise} : ${o.callMix.rough}, uniform points in Seoul`,
  };
}

interface ModelFixture {
  readonly version: string;
  readonly width: number;
  readonly rows: readonly (readonly (number | null)[])[];
  readonly distance: number;
  readonly hour: number;
}

/** The newest version's golden rows of a model (ml/models/<model>/<version>/golden.json). */
export function modelFixture(root: string, model: string): ModelFixture {
  const dir = join(root, 'ml', 'models', model);
  const versions = readdirSync(dir)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(a) - Number(b));
  const version = versions.at(-1);
  if (version === undefined) throw new Error(`no model version under ${dir}`);
  const meta = JSON.parse(readFileSync(join(dir, version, 'metadata.json'), 'utf8')) as {
    features: { name: string }[];
  };
  const golden = JSON.parse(readFileSync(join(dir, version, 'golden.json'), 'utf8')) as {
    cases: { features: (number | null)[] }[];
  };
  const names = meta.features.map((f) => f.name);
  return {
    version,
    width: names.length,
    rows: golden.cases.map((c) => c.features),
    distance: names.indexOf('distance_km'),
    hour: names.indexOf('hour_of_day'),
  };
}

/** `rows` valid rows with the distance and hour varied, so no two calls are alike. */
function inferBody(fx: ModelFixture, rows: number, i: number, random: () => number): string {
  const data: (number | null)[] = [];
  for (let r = 0; r < rows; r++) {
    const row = [...fx.rows[(i + r) % fx.rows.length]!];
    if (fx.distance >= 0) row[fx.distance] = Math.round(random() * 150) / 10;
    if (fx.hour >= 0) row[fx.hour] = Math.floor(random() * 24);
    data.push(...row);
  }
  // As the BFF sends it (adapters/ml.ts): no id, no version, one FP32 input.
  return JSON.stringify({ inputs: [{ name: 'features', shape: [rows, fx.width], datatype: 'FP32', data }] });
}

/** The ML proxy: the precise path's one-row eta-precise call and the rough path's pageSize-row eta-rough call. */
export function mlLoad(root: string, o: Pick<CapacityOptions, 'pageSize' | 'callMix'>): RoleLoad {
  const precise = modelFixture(root, 'eta-precise');
  const rough = modelFixture(root, 'eta-rough');
  return {
    mix: weighted([
      {
        name: 'eta-precise x1',
        weight: o.callMix.precise,
        build: ({ i, random }) => ({
          method: 'POST',
          path: '/v2/models/eta-precise/infer',
          headers: JSON_HEADERS,
          body: inferBody(precise, 1, i, random),
        }),
      },
      {
        name: `eta-rough x${o.pageSize}`,
        weight: o.callMix.rough,
        build: ({ i, random }) => ({
          method: 'POST',
          path: '/v2/models/eta-rough/infer',
          headers: JSON_HEADERS,
          body: inferBody(rough, o.pageSize, i, random),
        }),
      },
    ]),
    // A heuristic answer would be fast and wrong: only the model's own answers count.
    check: (res) => res.body.includes('"model_version"') && !res.body.includes('"fallback":true'),
    describe:
      `V2 infer, eta-precise 1 row : eta-rough ${o.pageSize} rows = ${o.callMix.precise} : ${o.callMix.rough} ` +
      `(newest versions: precise ${precise.version}, rough ${rough.version})`,
  };
}
