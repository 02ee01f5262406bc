/**
 * The estimate API's requests as the benchmarks send them: precise (one store, a fresh destination each
 * time, so no layer answers from a cache) and rough (many stores, one destination), with the checks that
 * count an answer as ok only when it came from the model or the store's own manual time, never from a
 * fallback (`degraded: true`).
 */
import { SEOUL_INNER_BOX } from '@eta/contracts';
import type { MixEntry } from './mix.ts';

/** A destination inside Seoul's service area, so no request is a 422. */
export function seoulPoint(random: () => number): { lat: number; lng: number } {
  return {
    lat: Number(
      (SEOUL_INNER_BOX.minLat + random() * (SEOUL_INNER_BOX.maxLat - SEOUL_INNER_BOX.minLat)).toFixed(6),
    ),
    lng: Number(
      (SEOUL_INNER_BOX.minLng + random() * (SEOUL_INNER_BOX.maxLng - SEOUL_INNER_BOX.minLng)).toFixed(6),
    ),
  };
}

export function bearerHeaders(token: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${token}` };
}

/** Store detail / checkout: one of `stores` seeded stores (ids 1..stores), a fresh destination. */
export function preciseMix(headers: Record<string, string>, stores: number): readonly MixEntry[] {
  return [
    {
      name: 'precise',
      weight: 1,
      build: ({ random }) => ({
        method: 'POST',
        path: '/v1/estimates/precise',
        headers,
        body: JSON.stringify({
          storeId: 1 + Math.floor(random() * stores),
          destination: seoulPoint(random),
          rider: {
            vehicleType: 'motorcycle',
            vehicleCondition: Math.floor(random() * 3),
            age: 30,
            rating: 4.6,
          },
        }),
      }),
    },
  ];
}

/** Store list: `perCall` distinct stores of 1..stores, one destination. */
export function roughMix(
  headers: Record<string, string>,
  stores: number,
  perCall: number,
): readonly MixEntry[] {
  return [
    {
      name: 'rough',
      weight: 1,
      build: ({ random }) => {
        const ids = new Set<number>();
        while (ids.size < perCall) ids.add(1 + Math.floor(random() * stores));
        return {
          method: 'POST',
          path: '/v1/estimates/rough',
          headers,
          body: JSON.stringify({ destination: seoulPoint(random), storeIds: [...ids] }),
        };
      },
    },
  ];
}

// Manual answers are the stores' own setting (some seeded stores have auto prediction off), not a fallback:
// a fallback is always `degraded: true`.
export const preciseAnswered = (res: { body: string }): boolean => {
  const body = JSON.parse(res.body) as { source?: string; degraded?: boolean };
  return (body.source === 'model' || body.source === 'manual') && body.degraded === false;
};

export const roughAnswered =
  (perCall: number) =>
  (res: { body: string }): boolean => {
    const body = JSON.parse(res.body) as { estimates?: { source?: string; degraded?: boolean }[] };
    return (
      body.estimates?.length === perCall &&
      body.estimates.every((e) => (e.source === 'rough' || e.source === 'manual') && e.degraded === false)
    );
  };
