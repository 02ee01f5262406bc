/**
 * The store-owner admin API (ROLE=admin|all), exactly per @eta/contracts' admin.ts: schema-first, every
 * route behind a verified bearer JWT and a per-subject rate limit. The handlers parse, call AdminService
 * (domain/admin-service.ts: ownership, ETag and If-Match, settings rules, audit, invalidation) and turn
 * its answers into HTTP: the ETag header, the 412, and coded errors through http/errors.ts.
 */
import { readFile } from 'node:fs/promises';
import {
  ACCURACY_POINTS_LIMIT,
  ACCURACY_STORES_LIMIT,
  AccuracyOverviewResponse,
  AccuracyQuery,
  ADMIN_ROUTES,
  AdminStore,
  ErrorBody,
  ETAG_HEADER,
  formatEtag,
  IF_MATCH_HEADER,
  MeResponse,
  PreconditionFailedBody,
  PreviewQuery,
  PreviewResponse,
  SettingsHistoryResponse,
  StoreAccuracyResponse,
  StoreParams,
  StoreSettingsBody,
  StoreSettingsPut,
} from '@eta/contracts';
import type { ServiceApp } from '@eta/service-kit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  listSettingsAudit,
  loadStoreViews,
  SEED_DONGS_FILE,
  updateSettings,
  type Database,
} from '../adapters/db/index.ts';
import { adminAuthHook, adminPrincipal, type AdminAuthOptions } from '../auth/hooks.ts';
import { dayAccuracyOverview, storeDayAccuracy } from '../adapters/db/live-events.ts';
import type { AccuracyPort, AdminRequest, AdminService, AdminStorePort } from '../domain/admin-service.ts';
import { toHttpError } from './errors.ts';
import { ADMIN_SECURITY } from './openapi.ts';

export interface AdminRouteDeps extends AdminAuthOptions {
  readonly service: AdminService;
}

export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

const registered = new WeakMap<object, RegisteredRoute[]>();

/** Every route the admin API registered on this app (tests generate their authorization cases from it). */
export function adminRoutesOf(app: FastifyInstance): readonly RegisteredRoute[] {
  return registered.get(app) ?? [];
}

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

/**
 * The service's database port on the data layer. Reads go to Postgres, not the cache: an ETag must be the
 * stored version, never a cached one.
 */
export function accuracyOf(db: Database): AccuracyPort {
  return {
    storeDay: (storeId, date) => storeDayAccuracy(db, storeId, date, ACCURACY_POINTS_LIMIT),
    overview: (date) => dayAccuracyOverview(db, date, ACCURACY_STORES_LIMIT),
  };
}

export function adminStoreOf(db: Database): AdminStorePort {
  return {
    view: async (storeId) => (await loadStoreViews(db, [storeId])).get(storeId),
    writeSettings: (storeId, version, values, actor, now) =>
      updateSettings(db, storeId, version, values, actor, now),
    history: (storeId, limit) => listSettingsAudit(db, storeId, limit),
  };
}

/** Dong code -> "구 동" and gu code -> "구", from the seed data's names (Geo's boundaries). */
export async function seedRegionNames(): Promise<ReadonlyMap<string, string>> {
  const data = JSON.parse(await readFile(SEED_DONGS_FILE, 'utf8')) as {
    gus: { code: string; name: string }[];
    dongs: { code: string; name: string; gu: string }[];
  };
  const names = new Map<string, string>();
  for (const g of data.gus) names.set(g.code, g.name);
  for (const d of data.dongs) names.set(d.code, `${names.get(d.gu) ?? ''} ${d.name}`.trim());
  return names;
}

/**
 * The PUT's If-Match. Optional to the schema, because a PUT without it is answered 428
 * PRECONDITION_REQUIRED (and one that is not a strong tag 400) by the domain, not 400 by validation; but
 * required, with the form it must have, in the OpenAPI document: no PUT without it ever succeeds.
 */
const IfMatchHeaders = z
  .object({
    [IF_MATCH_HEADER]: z.string().optional().meta({
      pattern: '^"[1-9][0-9]{0,14}"$',
      description: 'The ETag of the settings being replaced, as GET /v1/stores/{id}/settings answered it.',
    }),
  })
  .meta({ required: [IF_MATCH_HEADER] });

const asked = (request: FastifyRequest): AdminRequest => ({
  caller: adminPrincipal(request),
  log: request.log,
});

/** The settings' version as their ETag (on the 412 too: the client retries on what it was sent). */
function tagVersion(reply: FastifyReply, settings: StoreSettingsBody): void {
  reply.header(ETAG_HEADER, formatEtag(settings.version));
}

export function registerAdminRoutes(app: ServiceApp, deps: AdminRouteDeps): void {
  const { service } = deps;
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);

  void app.register(async (scope) => {
    const admin = scope as unknown as ServiceApp;
    admin.addHook('onRoute', (r) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const m of methods) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
      // Every route here is behind adminAuthHook, so every one documents its credential.
      r.schema = { ...r.schema, security: ADMIN_SECURITY };
    });
    admin.addHook('onRequest', adminAuthHook(deps));
    // Owners' data: never stored by a shared cache on the way.
    admin.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    // The service's coded errors in the kit's form; what this throws goes on to the kit's own handler.
    admin.setErrorHandler((err) => {
      throw toHttpError(err);
    });

    admin.get(ADMIN_ROUTES.me, { schema: { response: { 200: MeResponse, ...errors } } }, async (request) =>
      service.me(adminPrincipal(request)),
    );

    admin.get(
      ADMIN_ROUTES.store,
      { schema: { params: StoreParams, response: { 200: AdminStore, ...errors } } },
      async (request) => service.store(asked(request), request.params.id),
    );

    admin.get(
      ADMIN_ROUTES.settings,
      { schema: { params: StoreParams, response: { 200: StoreSettingsBody, ...errors } } },
      async (request, reply) => {
        const settings = await service.settings(asked(request), request.params.id);
        tagVersion(reply, settings);
        return settings;
      },
    );

    admin.put(
      ADMIN_ROUTES.settings,
      {
        schema: {
          params: StoreParams,
          headers: IfMatchHeaders,
          body: StoreSettingsPut,
          response: {
            200: StoreSettingsBody,
            ...errors,
            412: PreconditionFailedBody,
            428: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        const result = await service.replaceSettings(
          asked(request),
          request.params.id,
          request.headers[IF_MATCH_HEADER],
          request.body,
        );
        if (result.ok) {
          tagVersion(reply, result.settings);
          return result.settings;
        }
        tagVersion(reply, result.conflict.current);
        return reply.code(412).send(result.conflict);
      },
    );

    admin.get(
      ADMIN_ROUTES.settingsHistory,
      { schema: { params: StoreParams, response: { 200: SettingsHistoryResponse, ...errors } } },
      async (request) => service.history(asked(request), request.params.id),
    );

    admin.get(
      ADMIN_ROUTES.accuracy,
      {
        schema: {
          params: StoreParams,
          querystring: AccuracyQuery,
          response: { 200: StoreAccuracyResponse, ...errors },
        },
      },
      async (request) => service.accuracy(asked(request), request.params.id, request.query.date),
    );

    admin.get(
      ADMIN_ROUTES.accuracyOverview,
      {
        schema: {
          querystring: AccuracyQuery,
          response: { 200: AccuracyOverviewResponse, ...errors },
        },
      },
      async (request) => service.accuracyOverview(asked(request), request.query.date),
    );

    admin.get(
      ADMIN_ROUTES.preview,
      {
        schema: {
          params: StoreParams,
          querystring: PreviewQuery,
          response: { 200: PreviewResponse, ...errors, 422: ErrorBody },
        },
      },
      async (request) => service.preview(asked(request), request.params.id, request.query, request.deadline),
    );
  });
}
