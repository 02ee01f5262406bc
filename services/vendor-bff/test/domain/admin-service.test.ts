// The admin API's service layer with in-memory ports: the rules http/admin.ts only translates to HTTP
// (test/http/admin.test.ts runs the same rules through the real routes and data layer).
import type { StoreSettingsPut } from '@eta/contracts';
import { describe, expect, it } from 'vitest';
import type { AdminCaller } from '../../src/domain/admin.ts';
import {
  AdminService,
  type AdminLog,
  type AdminRequest,
  type AdminServiceDeps,
  type AdminStorePort,
  type SettingsAuditRecord,
  type SettingsWriteResult,
} from '../../src/domain/admin-service.ts';
import { DependencyFailure } from '../../src/domain/fallback.ts';
import type { PreviewDeps } from '../../src/domain/preview.ts';
import { settingsToBody } from '../../src/domain/settings.ts';
import type { StoreView } from '../../src/domain/stores.ts';
import { AdminError, CodedError, EstimateError } from '../../src/errors.ts';
import { BUSAN, MemoryCatalog, settings, view } from './estimate-fixtures.ts';

const NOW = new Date('2026-03-02T03:00:00Z');
const inMinutes = (m: number) => new Date(NOW.getTime() + m * 60_000);

const OWNER: AdminCaller = { kind: 'owner', subject: 'kim', storeIds: [1, 2] };
const OPERATOR: AdminCaller = { kind: 'operator', subject: 'support' };

interface Logged {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
}

function request(caller: AdminCaller): AdminRequest & { readonly lines: Logged[] } {
  const lines: Logged[] = [];
  const log: AdminLog = {
    info: (_o, msg) => lines.push({ level: 'info', msg }),
    warn: (_o, msg) => lines.push({ level: 'warn', msg }),
    error: (_o, msg) => lines.push({ level: 'error', msg }),
  };
  return { caller, log, lines };
}

/** The store database in memory: version check, write and audit row together, like the real one. */
class MemoryStore implements AdminStorePort {
  readonly views = new Map<number, StoreView>();
  readonly audit: (SettingsAuditRecord & { storeId: number })[] = [];
  readonly reads: number[] = [];
  failing = false;
  /** Set to make the write answer this, whatever is stored. */
  answer: SettingsWriteResult | undefined;

  constructor(views: readonly StoreView[]) {
    for (const v of views) this.views.set(v.store.id, v);
  }

  async view(storeId: number): Promise<StoreView | undefined> {
    if (this.failing) throw new Error('database down');
    this.reads.push(storeId);
    return this.views.get(storeId);
  }

  async writeSettings(
    storeId: number,
    expectedVersion: number,
    values: Parameters<AdminStorePort['writeSettings']>[2],
    actor: string,
    now: () => Date,
  ): Promise<SettingsWriteResult> {
    if (this.failing) throw new Error('database down');
    if (this.answer !== undefined) return this.answer;
    const v = this.views.get(storeId);
    if (v === undefined) return { ok: false, reason: 'not_found' };
    if (v.settings.version !== expectedVersion) {
      return { ok: false, reason: 'version_conflict', current: v.settings };
    }
    const after = { ...v.settings, ...values, updatedAt: now(), version: v.settings.version + 1 };
    this.views.set(storeId, { ...v, settings: after as StoreView['settings'] });
    this.audit.push({
      id: this.audit.length + 1,
      storeId,
      actor,
      at: now(),
      before: settingsToBody(v.settings),
      after: settingsToBody(after as StoreView['settings']),
    });
    return { ok: true, settings: after as StoreView['settings'] };
  }

  async history(storeId: number, limit: number): Promise<readonly SettingsAuditRecord[]> {
    if (this.failing) throw new Error('database down');
    return this.audit
      .filter((e) => e.storeId === storeId)
      .reverse()
      .slice(0, limit);
  }
}

/** The catalogue's invalidation, recorded (what the estimate path reads is the MemoryCatalog). */
class Invalidations {
  readonly ids: number[] = [];
  failing = false;
  invalidate = async (id: number): Promise<void> => {
    if (this.failing) throw new Error('redis down');
    this.ids.push(id);
  };
}

const down = () => Promise.reject(new DependencyFailure('test', 'connect', 'not reachable'));

function setup(over: Partial<AdminServiceDeps> = {}) {
  const views = [view(1, { version: 3 }), view(2), view(3)];
  const store = new MemoryStore(views);
  const catalog = new MemoryCatalog(views);
  const invalidations = new Invalidations();
  // Geo and the models unreachable: the preview's estimates come from the ladder's lower rungs.
  const preview: PreviewDeps = {
    catalog,
    geo: { features: down, featuresFrom: down },
    ml: { infer: down },
    roughCache: { getMany: async () => new Map() },
    settings: { budgetMs: 200, reserveMs: 0, roughResolution: 8, roughBucketMinutes: 15 },
    log: { warn: () => undefined },
  };
  let nameLoads = 0;
  const service = new AdminService({
    store,
    catalog: invalidations,
    preview,
    regionNames: async () => {
      nameLoads++;
      return new Map([
        ['11140', '중구'],
        ['1114055000', '중구 명동'],
      ]);
    },
    now: () => NOW,
    ...over,
  });
  return { service, store, catalog, invalidations, nameLoads: () => nameLoads };
}

const put = (over: Partial<StoreSettingsPut> = {}): StoreSettingsPut => ({
  autoPrediction: false,
  manualPrepMinutes: 20,
  manualDeliveryMinutes: 25,
  minShownMinutes: null,
  maxShownMinutes: null,
  busy: null,
  ...over,
});

/** The coded error a promise rejects with, as the HTTP layer would see it. */
async function refusal(p: Promise<unknown>) {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CodedError);
  const c = err as CodedError;
  return { status: c.statusCode, code: c.code, message: c.message, details: c.details };
}

const notFound = (id: number) => ({
  status: 404,
  code: 'STORE_NOT_FOUND',
  message: `no store with id ${id}`,
  details: [{ path: 'params.id', message: 'no such store' }],
});

// ---------------------------------------------------------------------------------------------------

describe('ownership: one check for every store operation', () => {
  const operations: [string, (s: AdminService, r: AdminRequest, id: number) => Promise<unknown>][] = [
    ['store', (s, r, id) => s.store(r, id)],
    ['settings', (s, r, id) => s.settings(r, id)],
    ['replaceSettings', (s, r, id) => s.replaceSettings(r, id, '"1"', put())],
    ['history', (s, r, id) => s.history(r, id)],
    ['preview', (s, r, id) => s.preview(r, id, {}, undefined)],
  ];

  it.each(operations)(
    '%s: another owner’s store answers like an unknown one, without reading or writing it',
    async (_name, call) => {
      const { service, store, invalidations } = setup();
      expect(await refusal(call(service, request(OWNER), 3))).toEqual(notFound(3));
      expect(await refusal(call(service, request(OPERATOR), 99))).toEqual(notFound(99));
      expect(store.reads).not.toContain(3);
      expect(store.audit).toEqual([]);
      expect(invalidations.ids).toEqual([]);
    },
  );

  it.each(operations)('%s: an operator may manage any store, an owner their own', async (_name, call) => {
    const { service } = setup();
    await expect(call(service, request(OPERATOR), 3)).resolves.toBeDefined();
    await expect(call(service, request(OWNER), 2)).resolves.toBeDefined();
  });

  it('a refused PUT on another owner’s store says 404 before it looks at If-Match', async () => {
    const { service } = setup();
    expect(await refusal(service.replaceSettings(request(OWNER), 3, undefined, put()))).toEqual(notFound(3));
  });
});

describe('reads', () => {
  it('me: the caller as the token names it', () => {
    const { service } = setup();
    expect(service.me(OWNER)).toEqual({ subject: 'kim', role: 'owner', storeIds: [1, 2] });
    expect(service.me(OPERATOR)).toEqual({ subject: 'support', role: 'operator', storeIds: [] });
  });

  it('store: with its region’s name, loaded once', async () => {
    const { service, nameLoads } = setup();
    const s = await service.store(request(OWNER), 1);
    expect(s.region).toEqual({
      guCode: '11140',
      dongCode: '1114055000',
      name: '중구 명동',
      regionClass: 'metropolitan',
    });
    await service.store(request(OWNER), 2);
    expect(nameLoads()).toBe(1);
  });

  it('store: without the names the store still answers (name null), and the next request tries again', async () => {
    let calls = 0;
    const { service } = setup({
      regionNames: async () => {
        calls++;
        if (calls === 1) throw new Error('no file');
        return new Map([['1114055000', '중구 명동']]);
      },
    });
    expect((await service.store(request(OWNER), 1)).region.name).toBeNull();
    expect((await service.store(request(OWNER), 1)).region.name).toBe('중구 명동');
  });

  it('settings: the stored version, and busy mode that has ended reads as off', async () => {
    const { service, store } = setup();
    store.views.set(1, view(1, { version: 7, busy: { extraMinutes: 5, until: inMinutes(-1) } }));
    const body = await service.settings(request(OWNER), 1);
    expect(body.version).toBe(7);
    expect(body.busy).toBeNull();
  });

  it('a failed database read is 503 UPSTREAM_ERROR, logged on the request', async () => {
    const { service, store } = setup();
    store.failing = true;
    const req = request(OWNER);
    for (const call of [() => service.settings(req, 1), () => service.history(req, 1)]) {
      expect(await refusal(call())).toEqual({
        status: 503,
        code: 'UPSTREAM_ERROR',
        message: 'the store database is unavailable; retry shortly',
        details: undefined,
      });
    }
    expect(req.lines).toContainEqual({ level: 'warn', msg: 'admin: database read failed' });
  });

  it('history: newest first in the admin API’s shape; none yet is an empty list', async () => {
    const { service } = setup();
    expect(await service.history(request(OWNER), 2)).toEqual({ items: [] });
    await service.replaceSettings(request(OWNER), 1, '"3"', put({ manualPrepMinutes: 11 }));
    await service.replaceSettings(request(OWNER), 1, '"4"', put({ manualPrepMinutes: 12 }));
    const { items } = await service.history(request(OWNER), 1);
    expect(items.map((i) => [i.actor, i.at, i.before.version, i.after.manualPrepMinutes])).toEqual([
      ['kim', NOW.toISOString(), 4, 12],
      ['kim', NOW.toISOString(), 3, 11],
    ]);
  });
});

describe('replaceSettings: If-Match, rules, write, audit, invalidation', () => {
  it('saves with the next version, writes one audit row and invalidates the store on every pod', async () => {
    const { service, store, invalidations } = setup();
    const req = request(OWNER);
    const result = await service.replaceSettings(req, 1, '"3"', put());
    expect(result).toMatchObject({ ok: true, settings: { version: 4, manualPrepMinutes: 20 } });
    expect(store.audit).toHaveLength(1);
    expect(store.audit[0]).toMatchObject({ storeId: 1, actor: 'kim', at: NOW });
    expect(invalidations.ids).toEqual([1]);
    expect(req.lines).toContainEqual({ level: 'info', msg: 'admin: settings changed' });
  });

  it('without If-Match: 428 and nothing written', async () => {
    const { service, store } = setup();
    expect(await refusal(service.replaceSettings(request(OWNER), 1, undefined, put()))).toMatchObject({
      status: 428,
      code: 'PRECONDITION_REQUIRED',
      details: undefined,
    });
    expect(store.audit).toEqual([]);
  });

  it.each(['W/"3"', '*', '"1", "2"', 'version-3', '"0"'])(
    'an If-Match it cannot read (%s): 400 naming headers.if-match',
    async (ifMatch) => {
      const { service, store } = setup();
      expect(await refusal(service.replaceSettings(request(OWNER), 1, ifMatch, put()))).toEqual({
        status: 400,
        code: 'VALIDATION_ERROR',
        message: 'headers.if-match: expected one strong ETag like "7"',
        details: [{ path: 'headers.if-match', message: 'expected one strong ETag like "7"' }],
      });
      expect(store.audit).toEqual([]);
    },
  );

  it.each<[string, Date, string]>([
    ['ending in the past', inMinutes(-1), 'busy until must be in the future'],
    ['lasting more than 12 h', inMinutes(13 * 60), 'busy mode lasts at most 12 hours'],
  ])(
    'busy mode %s: 400 naming body.busy.until, judged by the service’s clock',
    async (_n, until, message) => {
      const { service, store } = setup();
      const answer = await refusal(
        service.replaceSettings(request(OWNER), 1, '"3"', put({ busy: { extraMinutes: 5, until } })),
      );
      expect(answer).toEqual({
        status: 400,
        code: 'VALIDATION_ERROR',
        message: `body.busy.until: ${message}`,
        details: [{ path: 'body.busy.until', message }],
      });
      expect(store.audit).toEqual([]);
    },
  );

  it('a stale If-Match is a result: the current settings, nothing written or invalidated', async () => {
    const { service, store, invalidations } = setup();
    const result = await service.replaceSettings(request(OWNER), 1, '"2"', put());
    expect(result).toEqual({
      ok: false,
      conflict: {
        code: 'PRECONDITION_FAILED',
        message: 'the settings changed since version 2; nothing was saved (now version 3)',
        current: settingsToBody(settings(1, { version: 3 })),
      },
    });
    expect(store.audit).toEqual([]);
    expect(invalidations.ids).toEqual([]);
  });

  it('a store that vanished before the write: 404 like any unknown store', async () => {
    const { service, store } = setup();
    store.views.delete(1);
    expect(await refusal(service.replaceSettings(request(OWNER), 1, '"3"', put()))).toEqual(notFound(1));
  });

  it('values the stored row refuses: 400 naming the body', async () => {
    const { service, store } = setup();
    store.answer = {
      ok: false,
      reason: 'invalid',
      message: 'minimum shown time must not exceed the maximum',
    };
    expect(await refusal(service.replaceSettings(request(OWNER), 1, '"3"', put()))).toEqual({
      status: 400,
      code: 'VALIDATION_ERROR',
      message: 'body: minimum shown time must not exceed the maximum',
      details: [{ path: 'body', message: 'minimum shown time must not exceed the maximum' }],
    });
  });

  it('a failed write: 503 saying nothing was saved, logged as an error', async () => {
    const { service, store, invalidations } = setup();
    store.failing = true;
    const req = request(OWNER);
    expect(await refusal(service.replaceSettings(req, 1, '"3"', put()))).toEqual({
      status: 503,
      code: 'UPSTREAM_ERROR',
      message: 'the settings were not saved (database unavailable); retry',
      details: undefined,
    });
    expect(req.lines).toContainEqual({ level: 'error', msg: 'admin: settings write failed' });
    expect(invalidations.ids).toEqual([]);
  });

  it('a failed invalidation does not undo a committed write: saved, with a warning', async () => {
    const { service, store, invalidations } = setup();
    invalidations.failing = true;
    const req = request(OWNER);
    expect((await service.replaceSettings(req, 1, '"3"', put())).ok).toBe(true);
    expect(store.audit).toHaveLength(1);
    expect(req.lines).toContainEqual({
      level: 'warn',
      msg: 'admin: cache invalidation failed; TTL bounds staleness',
    });
  });
});

describe('preview', () => {
  it('24 points of the real estimate, towards the typical destination unless one is given', async () => {
    const { service, catalog } = setup();
    catalog.views.set(1, view(1, { autoPrediction: false }));
    const typical = await service.preview(request(OWNER), 1, {}, undefined);
    expect(typical.points).toHaveLength(24);
    expect(new Set(typical.points.map((p) => `${p.source}:${p.etaMinutes}`))).toEqual(new Set(['manual:25']));
    const at = { lat: 37.5665, lng: 126.978 };
    expect((await service.preview(request(OWNER), 1, at, undefined)).destination).toEqual(at);
  });

  it('names the preview’s own fields in the estimate’s errors', async () => {
    const { service, catalog } = setup();
    const outside = await service.preview(request(OWNER), 1, BUSAN, undefined).catch((e: unknown) => e);
    expect(outside).toBeInstanceOf(EstimateError);
    expect(outside).toMatchObject({ code: 'OUT_OF_SERVICE_AREA', statusCode: 422, field: 'querystring.lat' });
    // In the database but not (yet) in the catalogue the estimate reads.
    catalog.views.delete(2);
    const missing = await service.preview(request(OWNER), 2, {}, undefined).catch((e: unknown) => e);
    expect(missing).toMatchObject({
      code: 'STORE_NOT_FOUND',
      statusCode: 404,
      details: [{ path: 'params.id', message: 'no store with id 2' }],
    });
    expect(missing).not.toBeInstanceOf(AdminError);
  });
});
