/**
 * The running Geo's word on every planned destination, as the ordering system would get the dong of a
 * delivery address: `/v1/features/pairs` (store -> destination, GEO_MAX_BATCH pairs a call). Its dong goes
 * into the events; the report says where it disagrees with the plan (which used Geo's code and data
 * offline, so it should not) and how far Geo's distance is from the dataset's.
 */
import { FeaturesPairsResponse, GEO_MAX_BATCH } from '@eta/contracts';
import type { Dispatcher } from 'undici';
import { postJson } from './http.ts';
import type { PlannedOrder } from './plan.ts';

export interface GeoCheck {
  /** Order id -> the destination's dong code as Geo answered it. */
  readonly dongs: ReadonlyMap<string, string>;
  readonly checked: number;
  /** Destinations Geo put in another dong, or another class, than the plan (or outside Seoul). */
  readonly dongDisagreements: number;
  readonly classDisagreements: number;
  /** Largest |Geo's distanceM - the dataset's|, metres. */
  readonly maxDistanceErrorM: number;
}

export async function checkWithGeo(
  geoUrl: string,
  orders: readonly PlannedOrder[],
  dispatcher: Dispatcher,
  timeoutMs: number,
): Promise<GeoCheck> {
  const url = new URL('/v1/features/pairs', geoUrl).href;
  const dongs = new Map<string, string>();
  let dongDisagreements = 0;
  let classDisagreements = 0;
  let maxDistanceErrorM = 0;
  for (let i = 0; i < orders.length; i += GEO_MAX_BATCH) {
    const chunk = orders.slice(i, i + GEO_MAX_BATCH);
    const pairs = chunk.map((o) => ({ origin: o.origin, destination: o.destination }));
    const res = await postJson(url, { pairs }, { dispatcher, timeoutMs });
    if (res.status !== 200) throw new Error(`Geo ${url} answered ${res.status}: ${res.text.slice(0, 300)}`);
    const body = FeaturesPairsResponse.parse(res.json);
    for (const item of body.results) {
      const order = chunk[item.index];
      if (order === undefined) throw new Error(`Geo answered index ${item.index} of ${chunk.length}`);
      if ('error' in item) throw new Error(`Geo refused pair ${order.orderId}: ${item.error.message}`);
      const dest = item.features.destination;
      if (!dest.inServiceArea) {
        dongDisagreements++;
        classDisagreements++;
        continue;
      }
      dongs.set(order.orderId, dest.dong.code);
      if (dest.dong.code !== order.dongCode) dongDisagreements++;
      if (dest.dong.regionClass !== order.regionClass) classDisagreements++;
      maxDistanceErrorM = Math.max(maxDistanceErrorM, Math.abs(item.features.distanceM - order.distanceM));
    }
  }
  return { dongs, checked: orders.length, dongDisagreements, classDisagreements, maxDistanceErrorM };
}
