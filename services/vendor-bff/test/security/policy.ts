/**
 * THE authorization policy of the BFF, written once: every route any ROLE registers, and what each
 * identity gets there. authz-matrix.test.ts checks the running app against it (and fails on a registered
 * route this table does not name, so a new route must be classified here before its tests pass);
 * jwt-attacks.test.ts and body-limits.test.ts take their routes from it.
 *
 * A HEAD route that Fastify adds as the twin of a GET route has its GET's policy (and is requested too).
 */
import { IDENTITIES, OWN_STORE, type Identity } from './support.ts';

/**
 * allowed: the route's own success status (`Probe.ok`); unauthenticated: 401 UNAUTHENTICATED with
 * `WWW-Authenticate: Bearer`; forbidden: 403 FORBIDDEN; hidden: 404 STORE_NOT_FOUND, the answer a store
 * that does not exist gets (ADR 0005: ids cannot be probed).
 */
export type Outcome = 'allowed' | 'unauthenticated' | 'forbidden' | 'hidden';

const ok = 'allowed';
const u401 = 'unauthenticated';
const f403 = 'forbidden';
const h404 = 'hidden';

/** One outcome per identity, in the order of IDENTITIES. */
type Row = readonly [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome];

/** A request that succeeds for an allowed caller. */
export interface Probe {
  readonly url: string;
  readonly payload?: Record<string, unknown>;
  /** PUT settings: send the store's current ETag in If-Match, so only the identity decides the answer. */
  readonly ifMatch?: boolean;
  /** The status an allowed identity gets. */
  readonly ok: number;
}

export interface RoutePolicy {
  readonly probe: Probe;
  readonly access: Readonly<Record<Identity, Outcome>>;
}

const SEOUL = { lat: 37.5665, lng: 126.978 };
export const VALID_PUT = {
  autoPrediction: true,
  manualPrepMinutes: 12,
  manualDeliveryMinutes: 18,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
};

/** Who gets what, per route: THE table. */
// prettier-ignore
const ACCESS: Record<string, Row> = {
  //                                       anonymous serviceToken serviceJwt meshIdentity otherOwner owner operator
  // Service kit (every role): probes, metrics and the API document are public.
  'GET /livez':                            [ok,       ok,          ok,        ok,          ok,        ok,   ok],
  'GET /readyz':                           [ok,       ok,          ok,        ok,          ok,        ok,   ok],
  'GET /metrics':                          [ok,       ok,          ok,        ok,          ok,        ok,   ok],
  'GET /openapi.json':                     [ok,       ok,          ok,        ok,          ok,        ok,   ok],
  // Estimate API (ROLE precise, rough): service credentials only; an owner's or operator's JWT is not one.
  'POST /v1/estimates/precise':            [u401,     ok,          ok,        ok,          u401,      u401, u401],
  'POST /v1/estimates/rough':              [u401,     ok,          ok,        ok,          u401,      u401, u401],
  // Admin API (ROLE admin): owners and operators. A service JWT is known but not allowed (403); the shared
  // service token and the mesh header are not credentials of this API at all (401). Another owner's store
  // is answered like a store that does not exist.
  'GET /v1/me':                            [u401,     u401,        f403,      u401,        ok,        ok,   ok],
  'GET /v1/stores/:id':                    [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  'GET /v1/stores/:id/settings':           [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  'PUT /v1/stores/:id/settings':           [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  'GET /v1/stores/:id/settings/history':   [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  'GET /v1/stores/:id/preview':            [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  'GET /v1/stores/:id/accuracy':           [u401,     u401,        f403,      u401,        h404,      ok,   ok],
  // Every store's accuracy: operators only; an owner is known and refused (403), whatever stores they own.
  'GET /v1/accuracy':                      [u401,     u401,        f403,      u401,        f403,      f403, ok],
  // Order-events ingest (ROLE events): the estimate API's service credentials.
  'POST /v1/events/orders':                [u401,     ok,          ok,        ok,          u401,      u401, u401],
  // The admin web's static files (ROLE admin): public; the page signs in against the API.
  'GET /admin':                            [ok,       ok,          ok,        ok,          ok,        ok,   ok],
  'GET /admin/*':                          [ok,       ok,          ok,        ok,          ok,        ok,   ok],
};

/** For each route of the table, a request an allowed caller succeeds with (store routes: OWN_STORE). */
const PROBES: Record<string, Probe> = {
  'GET /livez': { url: '/livez', ok: 200 },
  'GET /readyz': { url: '/readyz', ok: 200 },
  'GET /metrics': { url: '/metrics', ok: 200 },
  'GET /openapi.json': { url: '/openapi.json', ok: 200 },
  'POST /v1/estimates/precise': {
    url: '/v1/estimates/precise',
    payload: { storeId: OWN_STORE, destination: SEOUL },
    ok: 200,
  },
  'POST /v1/estimates/rough': {
    url: '/v1/estimates/rough',
    payload: { storeIds: [OWN_STORE], destination: SEOUL },
    ok: 200,
  },
  'GET /v1/me': { url: '/v1/me', ok: 200 },
  'GET /v1/stores/:id': { url: `/v1/stores/${OWN_STORE}`, ok: 200 },
  'GET /v1/stores/:id/settings': { url: `/v1/stores/${OWN_STORE}/settings`, ok: 200 },
  'PUT /v1/stores/:id/settings': {
    url: `/v1/stores/${OWN_STORE}/settings`,
    payload: VALID_PUT,
    ifMatch: true,
    ok: 200,
  },
  'GET /v1/stores/:id/settings/history': { url: `/v1/stores/${OWN_STORE}/settings/history`, ok: 200 },
  'GET /v1/stores/:id/preview': { url: `/v1/stores/${OWN_STORE}/preview`, ok: 200 },
  'GET /v1/stores/:id/accuracy': { url: `/v1/stores/${OWN_STORE}/accuracy`, ok: 200 },
  'GET /v1/accuracy': { url: '/v1/accuracy', ok: 200 },
  'POST /v1/events/orders': {
    url: '/v1/events/orders',
    payload: {
      events: [
        {
          eventId: '0190a0a0-0000-7000-8000-000000000001',
          schemaVersion: 1,
          type: 'created',
          occurredAt: '2026-12-06T10:00:00Z',
          orderId: 'authz-probe-1',
          storeId: OWN_STORE,
          dongCode: '1111051500',
          orderedAt: '2026-12-06T10:00:00Z',
        },
      ],
    },
    ok: 202,
  },
  'GET /admin': { url: '/admin', ok: 308 },
  'GET /admin/*': { url: '/admin/stores/1/history', ok: 200 },
};

for (const key of Object.keys(PROBES)) {
  if (ACCESS[key] === undefined) throw new Error(`policy.ts: a probe for ${key}, which has no row`);
}

export const POLICY: Readonly<Record<string, RoutePolicy>> = Object.fromEntries(
  Object.entries(ACCESS).map(([key, row]) => {
    const probe = PROBES[key];
    if (probe === undefined) throw new Error(`policy.ts: no probe for ${key}`);
    const access = Object.fromEntries(IDENTITIES.map((id, i) => [id, row[i]!])) as Record<Identity, Outcome>;
    return [key, { probe, access }];
  }),
);

/** The table's key for a registered route: a HEAD twin of a GET route is classified by its GET. */
export function policyKey(
  route: { readonly method: string; readonly url: string },
  registered: ReadonlySet<string>,
): string {
  const key = `${route.method} ${route.url}`;
  if (route.method === 'HEAD' && registered.has(`GET ${route.url}`)) return `GET ${route.url}`;
  return key;
}

/** Routes that take a bearer JWT (some JWT identity is let in and an anonymous caller is not). */
export function jwtRoutes(kind: 'service' | 'admin'): string[] {
  return Object.entries(POLICY)
    .filter(([, p]) => p.access.anonymous === 'unauthenticated')
    .filter(([, p]) => (kind === 'service' ? p.access.serviceJwt : p.access.operator) === 'allowed')
    .map(([key]) => key);
}
