/**
 * The rough path's cache key: (store, H3 cell of the destination, time bucket). Every customer in a cell
 * during a bucket shares one estimate, computed for the cell's centre so the cached value does not depend
 * on which customer happened to miss first. loadtest/scenarios/bff-granularity.bench.ts imports this file
 * to measure what the resolution costs in accuracy and buys in hit ratio.
 */
import { cellToLatLng, latLngToCell } from 'h3-js';

export interface RoughCell {
  readonly cell: string;
  readonly centre: { readonly lat: number; readonly lng: number };
}

export function roughCell(lat: number, lng: number, resolution: number): RoughCell {
  const cell = latLngToCell(lat, lng, resolution);
  const [cLat, cLng] = cellToLatLng(cell);
  return { cell, centre: { lat: cLat, lng: cLng } };
}

/**
 * Where a store's buckets start within the bucket length, in whole seconds: a multiplicative hash of the
 * store id. Buckets aligned to the wall clock for every store end together, and each end empties the whole
 * rough cache at once, so a store-list peak recomputes every (store, cell) in the same second. Offset per
 * store, about one store in (length in seconds) rolls over each second.
 */
export function bucketOffsetMs(storeId: number, bucketMinutes: number): number {
  const seconds = bucketMinutes * 60;
  return ((Math.imul(storeId | 0, 0x9e3779b1) >>> 0) % seconds) * 1000;
}

/**
 * The store's time bucket at `at`. A bucket is `bucketMinutes` long and starts at the store's own offset, so
 * it may straddle an hour: the hour feature of an entry is that of the request that computed it, at most one
 * bucket old (as every cached rough answer is).
 */
export function timeBucket(at: Date, bucketMinutes: number, storeId: number): number {
  return Math.floor((at.getTime() + bucketOffsetMs(storeId, bucketMinutes)) / (bucketMinutes * 60_000));
}

/**
 * `<storeId>:<cell>:<bucket>`, built by join: V8 builds a template literal this long as a tree of cons
 * strings that is flattened into a copy only when compared, and the wrapper of that copy is dropped only if
 * no Mark-Compact is marking at the next scavenge. The key lives as long as its rough-cache entry (up to
 * 200,000 of them, thousands new a second), so it should be one flat 48-byte string from the start.
 */
export function roughCacheKey(storeId: number, cell: string, bucket: number): string {
  return [storeId, cell, bucket].join(':');
}
