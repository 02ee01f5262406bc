/**
 * The store-owner admin API's service layer; http/admin.ts is its thin HTTP edge, as http/estimates.ts is
 * EstimateService's. Here: who may touch which store (checked once, in #authorize), the settings' ETag
 * (= version) and If-Match rules, the settings rules that need the clock, the write that commits with its
 * audit row, the invalidation of every pod's cached copy after it, the history and the preview.
 *
 * Dependencies are ports (the store database, the catalogue's invalidation, the region names, the
 * clock), so these rules are tested with in-memory stand-ins; app.ts binds them. Failures are coded errors
 * (errors.ts) that http/errors.ts maps; the stale If-Match is a result instead, because its answer (412)
 * carries the current settings and their ETag.
 */
import {
  parseEtag,
  SETTINGS_HISTORY_LIMIT,
  settingsPutRules,
  type AccuracyOverviewResponse,
  type AdminStore,
  type MeResponse,
  type PreconditionFailedBody,
  type PreviewResponse,
  type SettingsHistoryResponse,
  type StoreAccuracyResponse,
  type StoreSettingsBody,
  type StoreSettingsPatch,
  type StoreSettingsPut,
} from '@eta/contracts';
import type { DeadlineLike } from '@eta/service-kit';
import {
  adminStoreNotFound,
  databaseUnavailable,
  EstimateError,
  invalidInput,
  operatorsOnly,
  preconditionRequired,
} from '../errors.ts';
import { mayManage, putAsPatch, settingsForAdmin, toAdminStore, type AdminCaller } from './admin.ts';
import {
  type AccuracySums,
  type DayAccuracyOverview,
  figuresOf,
  seoulToday,
  type StoreDayAccuracy,
} from './live-events.ts';
import { defaultDestination, previewDay, type PreviewDeps } from './preview.ts';
import type { StoreCatalog, StoreSettings, StoreView } from './stores.ts';

// ---------------------------------------------------------------------------------------------------
// Ports

/** The outcome of one settings write (the data layer's updateSettings). */
export type SettingsWriteResult =
  | { readonly ok: true; readonly settings: StoreSettings }
  | { readonly ok: false; readonly reason: 'not_found' }
  | { readonly ok: false; readonly reason: 'version_conflict'; readonly current: StoreSettings }
  | { readonly ok: false; readonly reason: 'invalid'; readonly message: string };

/** One settings change as the audit trail keeps it (`before`/`after` in the admin API's JSON shape). */
export interface SettingsAuditRecord {
  readonly id: number;
  readonly actor: string;
  readonly at: Date;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * The store database as the admin API uses it. Reads go to the database, never the cache: an ETag must
 * be the stored version, not a cached one.
 */
export interface AdminStorePort {
  /** One store with its settings; undefined for an unknown id. */
  view(storeId: number): Promise<StoreView | undefined>;
  /**
   * Writes `values` if the stored version is still `expectedVersion`, with the audit row in the same
   * transaction (both or neither).
   */
  writeSettings(
    storeId: number,
    expectedVersion: number,
    values: StoreSettingsPatch,
    actor: string,
    now: () => Date,
  ): Promise<SettingsWriteResult>;
  /** Newest first, at most `limit`. */
  history(storeId: number, limit: number): Promise<readonly SettingsAuditRecord[]>;
}

export interface AdminLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Who is asking, and the request's own log (its lines carry the request id and the subject). */
export interface AdminRequest {
  readonly caller: AdminCaller;
  readonly log: AdminLog;
}

/** Live accuracy as the event consumers keep it (adapters/db/live-events.ts). */
export interface AccuracyPort {
  storeDay(storeId: number, date: string): Promise<StoreDayAccuracy>;
  overview(date: string): Promise<DayAccuracyOverview>;
}

export interface AdminServiceDeps {
  readonly store: AdminStorePort;
  /** Live accuracy; without it the accuracy routes answer an empty day. */
  readonly accuracy?: AccuracyPort;
  /** The catalogue the estimate path reads: invalidated on every pod after each settings write. */
  readonly catalog: Pick<StoreCatalog, 'invalidate'>;
  /** The estimate path's dependencies, for the preview (the real precise estimate). */
  readonly preview: PreviewDeps;
  /** Dong and gu names by code, for the store's region name. */
  readonly regionNames: () => Promise<ReadonlyMap<string, string>>;
  readonly now?: () => Date;
}

/** A settings replacement: saved, or refused because the If-Match named an older version (412). */
export type SettingsReplacement =
  | { readonly ok: true; readonly settings: StoreSettingsBody }
  | { readonly ok: false; readonly conflict: PreconditionFailedBody };

/** A preview's destination as asked: both coordinates, or neither for the store's typical one. */
export interface PreviewAt {
  readonly lat?: number | undefined;
  readonly lng?: number | undefined;
}

const NO_SUMS: AccuracySums = { orders: 0, absErrorMm: 0, errorMm: 0, covered: 0 };

const READ_FAILED = 'the store database is unavailable; retry shortly';

// ---------------------------------------------------------------------------------------------------

export class AdminService {
  readonly #d: AdminServiceDeps;
  readonly #now: () => Date;
  #names: Promise<ReadonlyMap<string, string>> | undefined;

  constructor(deps: AdminServiceDeps) {
    this.#d = deps;
    this.#now = deps.now ?? (() => new Date());
  }

  me(caller: AdminCaller): MeResponse {
    return {
      subject: caller.subject,
      role: caller.kind,
      storeIds: caller.kind === 'owner' ? [...caller.storeIds] : [],
    };
  }

  async store(req: AdminRequest, storeId: number): Promise<AdminStore> {
    const view = await this.#managedView(req, storeId);
    // The region's name is a nicety: without the names the store still answers, with the name null.
    return toAdminStore(view.store, await this.#regionNames().catch(() => new Map<string, string>()));
  }

  async settings(req: AdminRequest, storeId: number): Promise<StoreSettingsBody> {
    const view = await this.#managedView(req, storeId);
    return settingsForAdmin(view.settings, this.#now());
  }

  /**
   * Replaces every field (a PUT) if `ifMatch` names the stored version. Checked in this order, each
   * refusal leaving everything unchanged: ownership (404), If-Match present (428) and readable (400), the
   * rules that need the clock (400), then the write with its audit row; after it commits, every pod's
   * cached copy is invalidated.
   */
  async replaceSettings(
    req: AdminRequest,
    storeId: number,
    ifMatch: string | undefined,
    put: StoreSettingsPut,
  ): Promise<SettingsReplacement> {
    // Ownership first: another owner's store must answer exactly like an unknown one.
    this.#authorize(req.caller, storeId);
    const version = expectedVersion(ifMatch);
    const at = this.#now();
    const [broken, ...more] = settingsPutRules(put, at).map((r) => ({
      path: `body.${r.path}`,
      message: r.message,
    }));
    if (broken !== undefined) throw invalidInput([broken, ...more]);
    let result: SettingsWriteResult;
    try {
      result = await this.#d.store.writeSettings(
        storeId,
        version,
        putAsPatch(put),
        req.caller.subject,
        () => at,
      );
    } catch (err) {
      req.log.error({ err, storeId }, 'admin: settings write failed');
      throw databaseUnavailable('the settings were not saved (database unavailable); retry');
    }
    if (!result.ok) {
      if (result.reason === 'not_found') throw adminStoreNotFound(storeId);
      if (result.reason === 'invalid') throw invalidInput([{ path: 'body', message: result.message }]);
      const current = settingsForAdmin(result.current, at);
      return {
        ok: false,
        conflict: {
          code: 'PRECONDITION_FAILED',
          message: `the settings changed since version ${version}; nothing was saved (now version ${current.version})`,
          current,
        },
      };
    }
    req.log.info(
      { storeId, version: result.settings.version, actor: req.caller.subject },
      'admin: settings changed',
    );
    try {
      await this.#d.catalog.invalidate(storeId);
    } catch (err) {
      // Committed: the TTL bounds how long other pods may serve the old copy (ADR 0005).
      req.log.warn({ err, storeId }, 'admin: cache invalidation failed; TTL bounds staleness');
    }
    return { ok: true, settings: settingsForAdmin(result.settings, at) };
  }

  async history(req: AdminRequest, storeId: number): Promise<SettingsHistoryResponse> {
    // An existing store may have no history yet; an unknown one must be a 404 all the same.
    await this.#managedView(req, storeId);
    const entries = await this.#d.store.history(storeId, SETTINGS_HISTORY_LIMIT).catch((err: unknown) => {
      req.log.warn({ err, storeId }, 'admin: history read failed');
      throw databaseUnavailable(READ_FAILED);
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
  }

  /** What customers would be shown across the coming day (preview.ts), at `at` or the typical destination. */
  async preview(
    req: AdminRequest,
    storeId: number,
    at: PreviewAt,
    deadline: DeadlineLike | undefined,
  ): Promise<PreviewResponse> {
    const view = await this.#managedView(req, storeId);
    const destination =
      at.lat !== undefined && at.lng !== undefined
        ? { lat: at.lat, lng: at.lng }
        : defaultDestination(view.store);
    try {
      const points = await previewDay(this.#d.preview, storeId, destination, this.#now(), deadline);
      return { storeId, destination, points };
    } catch (err) {
      // The estimate names its own request's fields; the preview's are the store id and the query's point.
      if (err instanceof EstimateError) {
        throw err.about(err.code === 'OUT_OF_SERVICE_AREA' ? 'querystring.lat' : 'params.id');
      }
      throw err;
    }
  }

  /**
   * The one ownership check: operators may manage every store, an owner only the ids in their token. A
   * store that is not the caller's answers exactly like one that does not exist.
   */
  #authorize(caller: AdminCaller, storeId: number): void {
    if (!mayManage(caller, storeId)) throw adminStoreNotFound(storeId);
  }

  /** A store the caller may manage, read from the database (404 for another owner's or an unknown one). */
  /** The store's live accuracy on a Seoul day (default today there). */
  async accuracy(req: AdminRequest, storeId: number, date?: string): Promise<StoreAccuracyResponse> {
    await this.#managedView(req, storeId);
    const day = date ?? seoulToday(this.#now());
    const read = this.#d.accuracy;
    const got =
      read === undefined
        ? { day: NO_SUMS, hours: [], models: [], points: [] }
        : await read.storeDay(storeId, day).catch((err: unknown) => {
            req.log.warn({ err, storeId }, 'admin: accuracy read failed');
            throw databaseUnavailable(READ_FAILED);
          });
    return {
      storeId,
      date: day,
      timeZone: 'Asia/Seoul',
      day: figuresOf(got.day),
      hours: got.hours.map((h) => ({ hour: h.hour, ...figuresOf(h) })),
      models: got.models.map((m) => ({ model: m.model, ...figuresOf(m) })),
      points: got.points.map((p) => ({
        orderId: p.orderId,
        deliveredAt: p.deliveredAt.toISOString(),
        predictedMinutes: p.predictedMm / 1000,
        low: p.lowMm / 1000,
        high: p.highMm / 1000,
        actualMinutes: p.actualMm / 1000,
        model: p.model,
      })),
    };
  }

  /** Every store's live accuracy on a Seoul day: operators only (an owner gets 403). */
  async accuracyOverview(req: AdminRequest, date?: string): Promise<AccuracyOverviewResponse> {
    if (req.caller.kind !== 'operator') throw operatorsOnly();
    const day = date ?? seoulToday(this.#now());
    const read = this.#d.accuracy;
    const got =
      read === undefined
        ? { day: NO_SUMS, models: [], stores: [] }
        : await read.overview(day).catch((err: unknown) => {
            req.log.warn({ err }, 'admin: accuracy read failed');
            throw databaseUnavailable(READ_FAILED);
          });
    return {
      date: day,
      timeZone: 'Asia/Seoul',
      day: figuresOf(got.day),
      models: got.models.map((m) => ({ model: m.model, ...figuresOf(m) })),
      stores: got.stores.map((st) => ({ storeId: st.storeId, ...figuresOf(st) })),
    };
  }

  async #managedView(req: AdminRequest, storeId: number): Promise<StoreView> {
    this.#authorize(req.caller, storeId);
    let view: StoreView | undefined;
    try {
      view = await this.#d.store.view(storeId);
    } catch (err) {
      req.log.warn({ err, storeId }, 'admin: database read failed');
      throw databaseUnavailable(READ_FAILED);
    }
    if (view === undefined) throw adminStoreNotFound(storeId);
    return view;
  }

  /** Loaded once; a failed load is forgotten, so the next request tries again. */
  #regionNames(): Promise<ReadonlyMap<string, string>> {
    this.#names ??= this.#d.regionNames().catch((err: unknown) => {
      this.#names = undefined;
      throw err;
    });
    return this.#names;
  }
}

/**
 * The version a write's If-Match names: 428 without one (no blind overwrites), 400 for one that is not a
 * single strong ETag (a weak tag, `*` or a list would match nothing forever or overwrite blindly).
 */
function expectedVersion(ifMatch: string | undefined): number {
  if (ifMatch === undefined) throw preconditionRequired();
  const version = parseEtag(ifMatch);
  if (version === null) {
    throw invalidInput([{ path: 'headers.if-match', message: 'expected one strong ETag like "7"' }]);
  }
  return version;
}
