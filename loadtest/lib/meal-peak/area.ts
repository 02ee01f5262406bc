/**
 * The service area as Geo decides it: its own dong polygons (services/geo/data), through its domain's
 * `loadGeoIndex`. Imported through a computed URL, as the other benchmarks do: the loadtest TypeScript
 * project does not reference services/*, so the surface used is described here and a drift fails at run time.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { InArea } from './hotspots.ts';

interface GeoIndexLike {
  lookup(lat: number, lng: number): { inServiceArea: boolean };
}

interface GeoDomain {
  loadGeoIndex(dir: string): Promise<GeoIndexLike>;
  DEFAULT_DATA_DIR: string;
}

/** `(lat, lng) => inside Seoul's service area`, from the Geo code and data of the checkout at `root`. */
export async function loadServiceArea(root: string): Promise<InArea> {
  const domain = (await import(
    pathToFileURL(join(root, 'services', 'geo', 'src', 'domain', 'index.ts')).href
  )) as GeoDomain;
  const index = await domain.loadGeoIndex(domain.DEFAULT_DATA_DIR);
  return (lat, lng) => index.lookup(lat, lng).inServiceArea;
}
