import { DongLiveParams, DongLiveResponse, ErrorBody, type DongRef, type GuRef } from '@eta/contracts';
import { AppError, type ServiceApp } from '@eta/service-kit';
import type { LiveStore } from '../adapters/live-store.ts';
import type { GeoIndex } from '../domain/index.ts';

export interface LiveRoutesDeps {
  readonly index: GeoIndex;
  readonly live: LiveStore;
}

/**
 * One dong's live statistics, for operators and dashboards: the features routes read them only when a
 * call sends `live: true`, and the precise and rough paths never do (services/geo/README.md), so this is
 * where they are looked at. Same read as the features routes (the live store's short L1, then Redis), so
 * a dashboard polling every dong costs Redis at most one read per dong per CACHE_TTL_MS.
 */
export function registerLiveRoutes(app: ServiceApp, deps: LiveRoutesDeps): void {
  const { index, live } = deps;
  const byCode = new Map<string, { readonly dong: DongRef; readonly gu: GuRef }>(
    index.dongs().map((d) => [d.dong.code, d]),
  );

  app.get(
    '/v1/regions/dongs/:code/live',
    {
      schema: {
        params: DongLiveParams,
        response: { 200: DongLiveResponse, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { code } = request.params;
      const found = byCode.get(code);
      if (found === undefined) {
        throw new AppError(404, 'DONG_NOT_FOUND', `no administrative dong of Seoul has the code ${code}`);
      }
      const block = (await live.read([code])).get(code);
      // read() answers every code it was given; this only keeps the type honest.
      if (block === undefined) throw new Error(`live store gave no answer for dong ${code}`);
      return { dong: found.dong, gu: found.gu, live: block };
    },
  );
}
