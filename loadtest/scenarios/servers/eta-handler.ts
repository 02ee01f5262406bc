// The one handler both benchmark servers run, so the only difference between them is the framework
// around it. It does a little arithmetic, like a cheap ETA lookup would, and nothing else.

export interface EtaQuery {
  readonly storeId: string;
  readonly lat: number;
  readonly lng: number;
}

export interface EtaAnswer {
  readonly storeId: string;
  readonly etaSeconds: number;
  readonly distanceKm: number;
}

// Seoul City Hall: distances are measured from here.
const ORIGIN_LAT = 37.5663;
const ORIGIN_LNG = 126.9779;
const KM_PER_DEG_LAT = 111.32;

export function answerEta(q: EtaQuery): EtaAnswer {
  const dLat = (q.lat - ORIGIN_LAT) * KM_PER_DEG_LAT;
  const dLng = (q.lng - ORIGIN_LNG) * KM_PER_DEG_LAT * Math.cos((ORIGIN_LAT * Math.PI) / 180);
  const distanceKm = Math.hypot(dLat, dLng);
  return {
    storeId: q.storeId,
    etaSeconds: Math.round(600 + distanceKm * 150),
    distanceKm: Math.round(distanceKm * 1000) / 1000,
  };
}

/** Seoul's bounding box: the querystring is rejected outside it, on both servers. */
export const SEOUL = { minLat: 37.41, maxLat: 37.72, minLng: 126.73, maxLng: 127.27 } as const;
