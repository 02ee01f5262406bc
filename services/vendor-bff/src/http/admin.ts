/**
 * The store-owner admin API (ROLE=admin|all), exactly per @eta/contracts' admin.ts: schema-first, every
 * route behind a verified bearer JWT and a per-subject rate limit, optimistic concurrency on settings
 * (ETag = version, If-Match required), and a settings write that commits with its audit row and then
 * invalidates the cached copy on every pod.
 */
import { readFile } from 'node:fs/promises';
import {
  ADMIN_ROUTES,
  AdminStore,
  ErrorBody,
  ETAG_HEADER,
  formatEtag,
  IF_MATCH_HEADER,
  MeResponse,
  parseEtag,
  PreconditionFailedBody,
  PreviewQuery,
  PreviewResponse,
  SETTINGS_HISTORY_LIMIT,
  SettingsHistoryResponse,
  settingsPutRules,
  StoreParams,
  StoreSettingsBody,
  StoreSettingsPut,
} from '@eta/contracts';
import { AppError, type ServiceApp } from '@eta/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  listSettingsAudit,
  loadStoreViews,
  SEED_DONGS_FILE,
  updateSettings,
  type Database,
} from '../adapters/db/index.ts';
import { adminAuthHook, adminPrincipal, type AdminAuthOptions } from '../auth/hooks.ts';
import { mayManage, putAsPatch, settingsForAdmin } from '../domain/admin.ts';
import { defaultDestination, previewDay, type PreviewDeps } from '../domain/preview.ts';
import type { Store, StoreCatalog, StoreView } from '../domain/stores.ts';
import { EstimateError } from '../errors.ts';

export interface AdminRouteDeps extends AdminAuthOptions {
  readonly db: Database;
  /** The catalogue the estimate path reads: invalidated after every settings write. */
  readonly catalog: StoreCatalog;
  /** The estimate path's dependencies, for the preview (the real precise estimate). */
  readonly preview: PreviewDeps;
  readonly now?: () => Date;
  /** Dong and gu names by code (defaults to the seed data's names, data/seed-dongs.json). */
  readonly regionNames?: () => Promise<ReadonlyMap<string, string>>;
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

const storeNotFound = (id: number) =>
  new AppError(404, 'STORE_NOT_FOUND', `no store with id ${id}`, [
    { path: 'params.id', message: 'no such store' },
  ]);

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

/** Dong code -> "구 동" and gu code -> "구", from the seed data's names (Geo's boundaries). */
async function seedRegionNames(): Promise<ReadonlyMap<string, string>> {
  const data = JSON.parse(await readFile(SEED_DONGS_FILE, 'utf8')) as {
    gus: { code: string; name: string }[];
    dongs: { code: string; name: string; gu: string }[];
  };
  const names = new Map<string, string>();
  for (const g of data.gus) names.set(g.code, g.name);
  for (const d of data.dongs) names.set(d.code, `${names.get(d.gu) ?? ''} ${d.name}`.trim());
  return names;
}

function toAdminStore(store: Store, names: ReadonlyMap<string, string>): AdminStore {
  const name =
    (store.dongCode !== null ? names.get(store.dongCode) : undefined) ??
    (store.guCode !== null ? names.get(store.guCode) : undefined) ??
    null;
  return {
    id: store.id,
    name: store.name,
    location: { lat: store.lat, lng: store.lng },
    category: store.category,
    region: { guCode: store.guCode, dongCode: store.dongCode, name, regionClass: store.regionClass },
  };
}

export function registerAdminRoutes(app: ServiceApp, deps: AdminRouteDeps): void {
  const now = deps.now ?? (() => new Date());
  let names: Promise<ReadonlyMap<string, string>> | undefined;
  const regionNames = () => {
    names ??= (deps.regionNames ?? seedRegionNames)().catch((err: unknown) => {
      names = undefined;
      throw err;
    });
    return names;
  };

  /** Reads go to Postgres, not the cache: an ETag must be the stored version, never a cached one. */
  const loadView = async (id: number): Promise<StoreView | undefined> => {
    try {
      return (await loadStoreViews(deps.db, [id])).get(id);
    } catch (err) {
      app.log.warn({ err, storeId: id }, 'admin: database read failed');
      throw new AppError(503, 'UPSTREAM_ERROR', 'the store database is unavailable; retry shortly');
    }
  };

  const sendSettings = (reply: FastifyReply, body: StoreSettingsBody) => {
    reply.header(ETAG_HEADER, formatEtag(body.version));
    return body;
  };

  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);

  void app.register(async (scope) => {
    const admin = scope as unknown as ServiceApp;
    admin.addHook('onRoute', (r) => {
      const methods = Array.isArray(r.method) ? r.method : [r.method];
      for (const m of methods) if (m !== 'HEAD') routes.push({ method: m, url: r.url });
    });
    admin.addHook('onRequest', adminAuthHook(deps));
    // Owners' data: never stored by a shared cache on the way.
    admin.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    admin.get(ADMIN_ROUTES.me, { schema: { response: { 200: MeResponse, ...errors } } }, async (request) => {
      const p = adminPrincipal(request);
      return {
        subject: p.subject,
        role: p.kind,
        storeIds: p.kind === 'owner' ? [...p.storeIds] : [],
      };
    });

    admin.get(
      ADMIN_ROUTES.store,
      { schema: { params: StoreParams, response: { 200: AdminStore, ...errors } } },
      async (request) => {
        const { id } = request.params;
        if (!mayManage(adminPrincipal(request), id)) throw storeNotFound(id);
        const view = await loadView(id);
        if (view === undefined) throw storeNotFound(id);
        return toAdminStore(view.store, await regionNames().catch(() => new Map<string, string>()));
      },
    );

    admin.get(
      ADMIN_ROUTES.settings,
      { schema: { params: StoreParams, response: { 200: StoreSettingsBody, ...errors } } },
      async (request, reply) => {
        const { id } = request.params;
        if (!mayManage(adminPrincipal(request), id)) throw storeNotFound(id);
        const view = await loadView(id);
        if (view === undefined) throw storeNotFound(id);
        return sendSettings(reply, settingsForAdmin(view.settings, now()));
      },
    );

    admin.put(
      ADMIN_ROUTES.settings,
      {
        schema: {
          params: StoreParams,
          headers: z.object({ [IF_MATCH_HEADER]: z.string().optional() }),
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
        const { id } = request.params;
        const caller = adminPrincipal(request);
        // Ownership first: another owner's store must answer exactly like an unknown one.
        if (!mayManage(caller, id)) throw storeNotFound(id);
        const ifMatch = request.headers[IF_MATCH_HEADER];
        if (ifMatch === undefined) {
          throw new AppError(
            428,
            'PRECONDITION_REQUIRED',
            "send If-Match with the ETag of the settings you edited, so nobody else's change is overwritten",
          );
        }
        const version = parseEtag(ifMatch);
        if (version === null) {
          throw new AppError(400, 'VALIDATION_ERROR', 'headers.if-match: expected one strong ETag like "7"', [
            { path: 'headers.if-match', message: 'expected one strong ETag like "7"' },
          ]);
        }
        const at = now();
        const rules = settingsPutRules(request.body, at);
        if (rules.length > 0) {
          const details = rules.map((r) => ({ path: `body.${r.path}`, message: r.message }));
          throw new AppError(400, 'VALIDATION_ERROR', `${details[0]!.path}: ${details[0]!.message}`, details);
        }
        let result;
        try {
          result = await updateSettings(
            deps.db,
            id,
            version,
            putAsPatch(request.body),
            caller.subject,
            () => at,
          );
        } catch (err) {
          request.log.error({ err, storeId: id }, 'admin: settings write failed');
          throw new AppError(
            503,
            'UPSTREAM_ERROR',
            'the settings were not saved (database unavailable); retry',
          );
        }
        if (!result.ok) {
          if (result.reason === 'not_found') throw storeNotFound(id);
          if (result.reason === 'invalid') {
            throw new AppError(400, 'VALIDATION_ERROR', `body: ${result.message}`, [
              { path: 'body', message: result.message },
            ]);
          }
          const current = settingsForAdmin(result.current, at);
          reply.header(ETAG_HEADER, formatEtag(current.version));
          return reply.code(412).send({
            code: 'PRECONDITION_FAILED' as const,
            message: `the settings changed since version ${version}; nothing was saved (now version ${current.version})`,
            current,
          });
        }
        request.log.info(
          { storeId: id, version: result.settings.version, actor: caller.subject },
          'admin: settings changed',
        );
        try {
          await deps.catalog.invalidate(id);
        } catch (err) {
          // Committed: the TTL bounds how long other pods may serve the old copy (ADR 0005).
          request.log.warn({ err, storeId: id }, 'admin: cache invalidation failed; TTL bounds staleness');
        }
        return sendSettings(reply, settingsForAdmin(result.settings, at));
      },
    );

    admin.get(
      ADMIN_ROUTES.settingsHistory,
      { schema: { params: StoreParams, response: { 200: SettingsHistoryResponse, ...errors } } },
      async (request) => {
        const { id } = request.params;
        if (!mayManage(adminPrincipal(request), id)) throw storeNotFound(id);
        // An existing store may have no history yet; an unknown one must be a 404 all the same.
        if ((await loadView(id)) === undefined) throw storeNotFound(id);
        const entries = await listSettingsAudit(deps.db, id, SETTINGS_HISTORY_LIMIT).catch((err: unknown) => {
          request.log.warn({ err, storeId: id }, 'admin: history read failed');
          throw new AppError(503, 'UPSTREAM_ERROR', 'the store database is unavailable; retry shortly');
        });
        return {
          items: entries.map((e) => ({
            id: e.id,
            actor: e.actor,
            at: e.at.toISOString(),
            before: e.before as StoreSettingsBody,
            after: e.after as StoreSettingsBody,
          })),
        };
      },
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
      async (request) => {
        const { id } = request.params;
        if (!mayManage(adminPrincipal(request), id)) throw storeNotFound(id);
        const view = await loadView(id);
        if (view === undefined) throw storeNotFound(id);
        const { lat, lng } = request.query;
        const destination =
          lat !== undefined && lng !== undefined ? { lat, lng } : defaultDestination(view.store);
        try {
          const points = await previewDay(deps.preview, id, destination, now(), request.deadline);
          return { storeId: id, destination, points };
        } catch (err) {
          if (err instanceof EstimateError) {
            const field = err.code === 'OUT_OF_SERVICE_AREA' ? 'querystring.lat' : 'params.id';
            throw new AppError(err.statusCode, err.code, err.message, [
              { path: field, message: err.message },
            ]);
          }
          throw err;
        }
      },
    );
  });
}
