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
 * Buckets are aligned to wall-clock minutes since the epoch; with a length that divides 60 (config enforces
 * it) a bucket never straddles an hour, so the model's hour feature is the same for all of it.
 */
export function timeBucket(at: Date, bucketMinutes: number): number {
  return Math.floor(at.getTime() / (bucketMinutes * 60_000));
}

/** The start of a bucket, for the time features of the estimate cached under it. */
export function bucketStart(bucket: number, bucketMinutes: number): Date {
  return new Date(bucket * bucketMinutes * 60_000);
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
