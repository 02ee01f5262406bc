/**
 * What the replay knows of the suite it plays against, without asking it: the seeded Seoul stores (the
 * BFF's own deterministic seed, `generateSeedStores` on `data/seed-dongs.json`, ids 1..n as the run command
 * seeds them) and the region of a point (Geo's own index on Geo's committed data: the dong and region
 * class Geo's `/v1/regions/lookup` answers). Both are the services' code and data, imported through
 * computed URLs as the other benchmarks do: the loadtest TypeScript project does not reference services/*,
 * so the surface used is described here and a drift in it fails at run time.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { LatLng, OrderType, RegionClass } from '@eta/contracts';

export interface ReplayStore {
  readonly id: number;
  readonly lat: number;
  readonly lng: number;
  readonly category: OrderType;
  readonly dongCode: string;
}

/** A point's region as Geo decides it; null outside the service area. */
export interface PointRegion {
  readonly dongCode: string;
  readonly regionClass: RegionClass;
}

export interface World {
  /** Store i is id i + 1. */
  readonly stores: readonly ReplayStore[];
  region(p: LatLng): PointRegion | null;
}

/** The run command's catalogue: SEED_STORES' default. */
export const DEFAULT_STORES = 5_000;

interface SeedModule {
  generateSeedStores(
    data: unknown,
    opts: { count: number; now: Date },
  ): { store: ReplayStore & { regionClass: RegionClass } }[];
}
interface SeedIoModule {
  loadSeedData(): Promise<unknown>;
}
interface GeoIndexLike {
  lookup(
    lat: number,
    lng: number,
  ): { inServiceArea: boolean; dong?: { code: string; regionClass: RegionClass } };
}
interface GeoDomain {
  loadGeoIndex(dir: string): Promise<GeoIndexLike>;
  DEFAULT_DATA_DIR: string;
}

const moduleUrl = (root: string, ...path: string[]) => pathToFileURL(join(root, ...path)).href;

/** Loads the stores 1..`stores` and Geo's index from the checkout at `root`. */
export async function loadWorld(root: string, stores: number = DEFAULT_STORES): Promise<World> {
  if (!Number.isInteger(stores) || stores < 1) throw new RangeError('stores must be a positive integer');
  const [seed, seedIo, geo] = (await Promise.all([
    import(moduleUrl(root, 'services', 'vendor-bff', 'src', 'domain', 'seed.ts')),
    import(moduleUrl(root, 'services', 'vendor-bff', 'src', 'adapters', 'db', 'seed.ts')),
    import(moduleUrl(root, 'services', 'geo', 'src', 'domain', 'index.ts')),
  ])) as [SeedModule, SeedIoModule, GeoDomain];
  const [data, index] = await Promise.all([seedIo.loadSeedData(), geo.loadGeoIndex(geo.DEFAULT_DATA_DIR)]);
  // `now` only places the seed's busy modes in time; positions, ids and categories do not depend on it.
  const seeded = seed.generateSeedStores(data, { count: stores, now: new Date(0) });
  return {
    stores: seeded.map(({ store: s }) => ({
      id: s.id,
      lat: s.lat,
      lng: s.lng,
      category: s.category,
      dongCode: s.dongCode,
    })),
    region(p) {
      const r = index.lookup(p.lat, p.lng);
      return r.inServiceArea && r.dong !== undefined
        ? { dongCode: r.dong.code, regionClass: r.dong.regionClass }
        : null;
    },
  };
}
