import {
  ErrorBody,
  FeaturesBatchRequest,
  FeaturesBatchResponse,
  FeaturesPair,
  FeaturesPairsRequest,
  FeaturesPairsResponse,
  FeaturesRequest,
  FeaturesResponse,
  LatLng,
  type FeaturesBatchItem,
  type GeoItemError,
  type LiveDongFeatures,
  type PairFeatures,
} from '@eta/contracts';
import { AppError, INTERNAL_MESSAGE, type ServiceApp } from '@eta/service-kit';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveStore } from '../adapters/live-store.ts';
import type {
  GeoIndex,
  LatLng as DomainLatLng,
  PairFeatures as DomainPair,
  RegionBlock as DomainRegion,
} from '../domain/index.ts';
import { toHttpError } from '../errors.ts';
import { toRegion } from './regions.ts';

export interface FeatureRoutesDeps {
  readonly index: GeoIndex;
  readonly live: LiveStore;
}

const OUTSIDE: LiveDongFeatures = Object.freeze({ available: false, reason: 'outside-service-area' });
const NOT_REQUESTED: LiveDongFeatures = Object.freeze({ available: false, reason: 'not-requested' });
/** The live block of every pair of a call that did not send `live: true`: nothing was read for it. */
const NOT_REQUESTED_BLOCK: PairFeatures['live'] = Object.freeze({
  origin: NOT_REQUESTED,
  destination: NOT_REQUESTED,
});

function liveOf(r: DomainRegion, live: ReadonlyMap<string, LiveDongFeatures>): LiveDongFeatures {
  if (r.dong === undefined) return OUTSIDE;
  // read() answers every code it was given; the fallback only keeps the type honest.
  return live.get(r.dong.code) ?? OUTSIDE;
}

/** `live` undefined: the call did not ask for live statistics, and none were read. */
function toPair(f: DomainPair, live: ReadonlyMap<string, LiveDongFeatures> | undefined): PairFeatures {
  return {
    distanceM: f.distanceM,
    roadDistanceM: f.roadDistanceM,
    bearingDeg: f.bearingDeg,
    origin: toRegion(f.origin),
    destination: toRegion(f.destination),
    sameDong: f.sameDong,
    sameGu: f.sameGu,
    crossesHanRiver: f.crossesHanRiver,
    live:
      live === undefined
        ? NOT_REQUESTED_BLOCK
        : { origin: liveOf(f.origin, live), destination: liveOf(f.destination, live) },
  };
}

function addDong(codes: Set<string>, r: DomainRegion): void {
  if (r.dong !== undefined) codes.add(r.dong.code);
}

/**
 * Answers each pair at its place in the request (`at[k]` is where `pairs[k]` was asked). With `wantLive`
 * the live statistics of every dong of `pairs` are read first, at once; without it, none are.
 */
async function placeFeatures(
  results: FeaturesBatchItem[],
  pairs: readonly DomainPair[],
  at: readonly number[],
  live: LiveStore,
  wantLive: boolean,
): Promise<void> {
  let liveByDong: ReadonlyMap<string, LiveDongFeatures> | undefined;
  if (wantLive) {
    const codes = new Set<string>();
    for (const p of pairs) {
      addDong(codes, p.origin);
      addDong(codes, p.destination);
    }
    liveByDong = await live.read([...codes]);
  }
  for (let k = 0; k < pairs.length; k++) {
    const i = at[k]!;
    results[i] = { index: i, features: toPair(pairs[k]!, liveByDong) };
  }
}

/** `origin.lat` from a zod issue path, for an item's `field`. */
function issuePath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * `body.pairs.3` + the first zod issue of that item -> `body.pairs.3.destination.lat` and its message; the
 * error a batch or pairs item gets in its place.
 */
function itemValidationError(
  base: string,
  issue: { path: readonly PropertyKey[]; message: string } | undefined,
): GeoItemError {
  const field = issue === undefined || issue.path.length === 0 ? base : `${base}.${issuePath(issue.path)}`;
  return { code: 'VALIDATION_ERROR', message: `${field}: ${issue?.message ?? 'invalid'}`, field };
}

/**
 * What index.features threw for one pair, as that item's error with the code `/v1/features` would have
 * answered: a GeoInputError goes through toHttpError (VALIDATION_ERROR, the domain's code in the message);
 * anything else is our bug, a 500 INTERNAL there, so here INTERNAL with the generic message and the stack
 * in the log, and the other pairs are still answered.
 */
function pairDomainError(err: unknown, base: string, index: number, log: FastifyBaseLogger): GeoItemError {
  const mapped = toHttpError(err, base);
  if (mapped instanceof AppError && mapped.statusCode < 500) {
    return { code: mapped.code, message: mapped.message, field: mapped.details?.[0]?.path ?? base };
  }
  log.error({ err, index, code: 'INTERNAL' }, 'pair features failed');
  return { code: 'INTERNAL', message: INTERNAL_MESSAGE, field: base };
}

export function registerFeatureRoutes(app: ServiceApp, deps: FeatureRoutesDeps): void {
  const { index, live } = deps;

  app.post(
    '/v1/features',
    { schema: { body: FeaturesRequest, response: { 200: FeaturesResponse, 400: ErrorBody } } },
    async (request) => {
      let f: DomainPair;
      try {
        f = index.features(request.body.origin, request.body.destination);
      } catch (err) {
        throw toHttpError(err, 'body');
      }
      // The live statistics cost a Redis round trip (or an L1 lookup); read them only when asked.
      if (request.body.live !== true) return toPair(f, undefined);
      const codes = new Set<string>();
      addDong(codes, f.origin);
      addDong(codes, f.destination);
      return toPair(f, await live.read([...codes]));
    },
  );

  app.post(
    '/v1/features/batch',
    { schema: { body: FeaturesBatchRequest, response: { 200: FeaturesBatchResponse, 400: ErrorBody } } },
    async (request) => {
      const body = request.body;
      // The schema guarantees exactly one of the two shapes.
      const sharedEnd = body.origin !== undefined ? ('origin' as const) : ('destination' as const);
      const shared = (body.origin ?? body.destination)!;
      const listName = sharedEnd === 'origin' ? 'destinations' : 'origins';
      const points = (sharedEnd === 'origin' ? body.destinations : body.origins) ?? [];

      // Items are checked one at a time so a bad one is answered in its place; only the good ones reach
      // the domain, which looks the shared point up once for all of them.
      const results = new Array<FeaturesBatchItem>(points.length);
      const valid: DomainLatLng[] = [];
      const validAt: number[] = [];
      let errors = 0;
      for (let i = 0; i < points.length; i++) {
        const parsed = LatLng.safeParse(points[i]);
        if (parsed.success) {
          valid.push(parsed.data);
          validAt.push(i);
          continue;
        }
        results[i] = {
          index: i,
          error: itemValidationError(`body.${listName}.${i}`, parsed.error.issues[0]),
        };
        errors++;
      }

      let pairs: DomainPair[];
      try {
        pairs = index.featuresBatch(shared, valid, sharedEnd);
      } catch (err) {
        throw toHttpError(err, 'body');
      }
      await placeFeatures(results, pairs, validAt, live, body.live === true);
      return { sharedEnd, results, errors };
    },
  );

  app.post(
    '/v1/features/pairs',
    { schema: { body: FeaturesPairsRequest, response: { 200: FeaturesPairsResponse, 400: ErrorBody } } },
    async (request) => {
      const items = request.body.pairs;
      // Each pair is checked and computed on its own, so a bad one (or one the domain refuses) is answered
      // in its place; the live statistics of every dong of the call are then read once, if asked for.
      const results = new Array<FeaturesBatchItem>(items.length);
      const pairs: DomainPair[] = [];
      const pairAt: number[] = [];
      let errors = 0;
      for (let i = 0; i < items.length; i++) {
        const parsed = FeaturesPair.safeParse(items[i]);
        if (!parsed.success) {
          results[i] = { index: i, error: itemValidationError(`body.pairs.${i}`, parsed.error.issues[0]) };
          errors++;
          continue;
        }
        let f: DomainPair;
        try {
          f = index.features(parsed.data.origin, parsed.data.destination);
        } catch (err) {
          results[i] = { index: i, error: pairDomainError(err, `body.pairs.${i}`, i, request.log) };
          errors++;
          continue;
        }
        pairs.push(f);
        pairAt.push(i);
      }

      await placeFeatures(results, pairs, pairAt, live, request.body.live === true);
      return { results, errors };
    },
  );
}
