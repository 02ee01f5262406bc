import { ErrorBody, LookupQuery, LookupResponse, type RegionBlock } from '@eta/contracts';
import type { ServiceApp } from '@eta/service-kit';
import type { GeoIndex, RegionBlock as DomainRegion } from '../domain/index.ts';
import { toHttpError } from '../errors.ts';

/** The domain's region with optional gu/dong, as the contract's union: a dong always comes with its gu. */
export function toRegion(r: DomainRegion): RegionBlock {
  if (r.inServiceArea && r.gu !== undefined && r.dong !== undefined) {
    return { inServiceArea: true, gu: r.gu, dong: r.dong, h3: r.h3 };
  }
  return { inServiceArea: false, h3: r.h3 };
}

export function registerRegionRoutes(app: ServiceApp, deps: { readonly index: GeoIndex }): void {
  app.get(
    '/v1/regions/lookup',
    { schema: { querystring: LookupQuery, response: { 200: LookupResponse, 400: ErrorBody } } },
    async (request) => {
      const { lat, lng } = request.query;
      try {
        return toRegion(deps.index.lookup(lat, lng));
      } catch (err) {
        throw toHttpError(err, 'querystring');
      }
    },
  );
}
