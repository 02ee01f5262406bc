import { checkGolden, parseGolden, type Golden } from './golden.ts';
import {
  artifactDigest,
  budgetOf,
  type InferenceBackend,
  type ModelSignature,
  signatureFromMetadata,
} from './model.ts';
import {
  parseRelease,
  type ReleaseFile,
  resolveRouting,
  type Routing,
  type RoutingSettings,
  type ServingSource,
} from './release.ts';

/** Ports: where versions come from and how a version becomes a backend. Implemented in adapters/. */
export interface VersionListing {
  readonly version: string;
  /** Changes whenever any file of the version changes (mtime and size), so a rewritten version is retried. */
  readonly fingerprint: string;
}

export interface VersionArtifacts {
  readonly metadata: unknown;
  /** undefined when the version has no golden.json. */
  readonly golden: unknown;
  readonly modelPath: string;
  /** SHA-256 of the model file as found on disk. */
  readonly modelSha256: string;
}

export interface ModelSource {
  /** Versions present for `model`, in any order; [] when the model has no directory. */
  listVersions(model: string): Promise<VersionListing[]>;
  readVersion(model: string, version: string): Promise<VersionArtifacts>;
  /** The text of `<model>/release.json`, undefined when there is none; absent: the source has no release files. */
  readRelease?(model: string): Promise<string | undefined>;
}

export interface ModelLoader {
  readonly platform: string;
  load(args: {
    model: string;
    version: string;
    modelPath: string;
    signature: ModelSignature;
  }): Promise<InferenceBackend>;
}

/** A model served by a remote V2 server: its versions and signature are whatever the upstream reports. */
export interface RemoteModel {
  describe(): Promise<{ versions: string[]; platform: string; signature: ModelSignature }>;
  backend(version: string, signature: ModelSignature): InferenceBackend;
}

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RegistryEvents {
  reload(model: string, version: string, outcome: 'success' | 'failure'): void;
  versionsChanged(model: string, versions: readonly string[]): void;
  /** A release.json was refused (once per distinct refused content); the last good one keeps applying. */
  releaseRefused(model: string): void;
}

/**
 * One loaded version. In-flight calls hold a reference so that a version replaced by a hot reload is
 * closed only after its last call finished: releasing an ONNX session under a running call would crash.
 */
export class LoadedVersion {
  readonly model: string;
  readonly version: string;
  readonly platform: string;
  readonly signature: ModelSignature;
  readonly backend: InferenceBackend;
  readonly fingerprint: string;
  #inflight = 0;
  #retired = false;
  #closed: Promise<void> | undefined;
  /** retire()'s promise while calls are in flight: resolved once the last one released it and it closed. */
  #retiring: PromiseWithResolvers<void> | undefined;

  constructor(args: {
    model: string;
    version: string;
    platform: string;
    signature: ModelSignature;
    backend: InferenceBackend;
    fingerprint: string;
  }) {
    this.model = args.model;
    this.version = args.version;
    this.platform = args.platform;
    this.signature = args.signature;
    this.backend = args.backend;
    this.fingerprint = args.fingerprint;
  }

  acquire(): void {
    this.#inflight++;
  }

  release(): void {
    this.#inflight--;
    if (this.#retired && this.#inflight === 0) void this.#close().then(this.#retiring?.resolve);
  }

  /**
   * Stops new use; resolves once the in-flight calls are done and the backend closed. A call that missed
   * its deadline still runs in the backend: shutdown waits for it (within SHUTDOWN_TIMEOUT_MS), because a
   * process that exits under a running ONNX call aborts. A hot reload need not wait (it does not).
   */
  retire(): Promise<void> {
    this.#retired = true;
    if (this.#inflight === 0) return this.#close();
    this.#retiring ??= Promise.withResolvers<void>();
    return this.#retiring.promise;
  }

  #close(): Promise<void> {
    this.#closed ??= this.backend.close().catch(() => undefined);
    return this.#closed;
  }
}

export interface ModelDefinition {
  readonly name: string;
  /** When set, versions come from this upstream instead of the repository. */
  readonly remote?: RemoteModel;
  /** What MODEL_SETTINGS says about the versions served (default, canary, shadow, keepLoaded). */
  readonly routing?: RoutingSettings;
  /**
   * true (MODEL_LOAD_VERSIONS=served): load only what the pod serves: the preferred version (MODEL_SETTINGS'
   * default, else release.json's serving) or, when there is none or it fails its checks, the newest
   * version that is not a candidate (the one before it when that fails too, so a bad release never leaves
   * nothing to serve); plus canary, shadow, the release's candidate and keepLoaded. Loading every version
   * costs memory per version (ONNX sessions, a worker thread each) for versions nobody asks for.
   * false: every version in the repository.
   */
  readonly loadServedOnly?: boolean;
  /** Input layout used by the heuristic while no trained version was ever seen (cold start). */
  readonly coldStartSignature: ModelSignature;
}

/**
 * Reads one version from the source and loads it, checked as the proxy serves it: metadata, the model
 * file's SHA-256, golden.json present (when required) and reproduced by every session of the backend,
 * after `warmUp` when given. Throws with the reason when the version must not serve; the backend is
 * closed then. Also used offline (`pnpm model`: a rollback target's check, scoring rows).
 */
export async function loadCheckedVersion(args: {
  source: ModelSource;
  loader: ModelLoader;
  model: string;
  version: string;
  requireGolden: boolean;
  warmUp?: (part: InferenceBackend, signature: ModelSignature, golden: Golden | undefined) => Promise<void>;
}): Promise<{ backend: InferenceBackend; signature: ModelSignature; metadata: unknown }> {
  const { source, loader, model, version } = args;
  const artifacts = await source.readVersion(model, version);
  const signature = signatureFromMetadata(artifacts.metadata);
  const expectedDigest = artifactDigest(artifacts.metadata);
  if (expectedDigest !== undefined && expectedDigest !== artifacts.modelSha256) {
    throw new Error(
      `model file SHA-256 ${artifacts.modelSha256} does not match metadata (${expectedDigest}): corrupt or partly copied`,
    );
  }
  const width = signature.features.length;
  if (artifacts.golden === undefined && args.requireGolden) {
    throw new Error(
      'golden.json is missing; a version is only served after it reproduces its golden outputs',
    );
  }
  const golden = artifacts.golden === undefined ? undefined : parseGolden(artifacts.golden, width);
  const backend = await loader.load({ model, version, modelPath: artifacts.modelPath, signature });
  try {
    // Every session that may serve a call passes the same checks, whatever batch size routes to it.
    const parts = backend.parts ?? [backend];
    for (const [i, part] of parts.entries()) {
      await args.warmUp?.(part, signature, golden);
      if (golden) {
        const outputs = Object.keys(golden.expected);
        const actual = await part.infer(golden.input, golden.rows, outputs, budgetOf(30_000));
        const mismatch = checkGolden(golden, actual);
        if (mismatch !== undefined) {
          const which = parts.length > 1 ? ` (session ${i + 1} of ${parts.length})` : '';
          throw new Error(`golden check failed${which}: ${mismatch}`);
        }
      }
    }
  } catch (err) {
    await backend.close().catch(() => undefined);
    throw err;
  }
  return { backend, signature, metadata: artifacts.metadata };
}

export class ModelSlot {
  readonly name: string;
  readonly remote: RemoteModel | undefined;
  readonly settings: RoutingSettings;
  readonly loadServedOnly: boolean;
  readonly versions = new Map<string, LoadedVersion>();
  /**
   * What serves, from the settings and the last good release.json. Replaced in one assignment by a sync
   * once every version it names has been loaded, so a request sees the old routing or the new one.
   */
  routing: Routing;
  /** The last good release.json (undefined: none seen yet). */
  release: ReleaseFile | undefined;
  /** True while the release.json on disk is refused (the last good one applies). */
  releaseRefused = false;
  #releaseText: string | undefined;
  #refusedText: string | undefined;
  /** version -> fingerprint that failed, so a broken version is not retried until its files change. */
  readonly failed = new Map<string, string>();
  /** True once the first load attempt finished, whatever its outcome. */
  initialized = false;
  /** True when a trained model exists (files in the repository, or a remote upstream). */
  hasArtifacts = false;
  /** Signature of the newest version ever loaded: the heuristic keeps reading the same columns after it goes. */
  lastSignature: ModelSignature;
  #sorted: readonly string[] = [];

  constructor(def: ModelDefinition) {
    this.name = def.name;
    this.remote = def.remote;
    this.settings = def.routing ?? {};
    this.loadServedOnly = def.loadServedOnly ?? false;
    this.routing = resolveRouting(this.settings, undefined);
    this.lastSignature = def.coldStartSignature;
  }

  /**
   * The version unpinned, non-canary calls get: the preferred one (MODEL_SETTINGS' defaultVersion, else
   * release.json's serving) when it is loaded, else the newest loaded version that is not a candidate.
   */
  stable(): LoadedVersion | undefined {
    const preferred = this.routing.preferred;
    if (preferred !== undefined) {
      const loaded = this.versions.get(preferred);
      if (loaded) return loaded;
    }
    return this.latest(this.routing.candidates);
  }

  /** Where the stable version was decided: `newest` when no preferred version serves. */
  servingSource(): ServingSource {
    const preferred = this.routing.preferred;
    if (preferred !== undefined && this.versions.has(preferred))
      return this.routing.preferredFrom ?? 'newest';
    return 'newest';
  }

  /**
   * Takes `text` (release.json's content, undefined when the file is absent) as the model's release. Returns
   * 'unchanged', 'applied', or the refusal message when it is refused (then the last good release stays).
   * A file that disappears after a good one was read is refused too: the writers replace it atomically
   * and never delete it, so its absence is a mistake (a bad sync, a wrong `rm`), and serving the newest
   * version then would serve the candidate.
   */
  takeRelease(
    text: string | undefined,
  ): { outcome: 'unchanged' | 'applied' } | { outcome: 'refused'; message: string; first: boolean } {
    if (text === this.#releaseText) {
      // Back to the last good content: a later refusal of the same bad content is news again.
      this.releaseRefused = false;
      this.#refusedText = undefined;
      return { outcome: 'unchanged' };
    }
    let message: string;
    if (text === undefined) {
      message = 'release.json disappeared';
    } else {
      try {
        this.release = parseRelease(text);
        this.#releaseText = text;
        this.#refusedText = undefined;
        this.releaseRefused = false;
        return { outcome: 'applied' };
      } catch (err) {
        message = (err as Error).message;
      }
    }
    const key = text ?? '\u0000absent';
    const first = this.#refusedText !== key;
    this.#refusedText = key;
    this.releaseRefused = true;
    return { outcome: 'refused', message, first };
  }

  /** Ready version ids, oldest first (numeric where possible, like Triton's integer version folders). */
  get versionIds(): readonly string[] {
    return this.#sorted;
  }

  /** Ready when the first load finished and either a version serves or no trained model exists (cold start: heuristic). */
  get ready(): boolean {
    return this.initialized && (this.versions.size > 0 || !this.hasArtifacts);
  }

  set(version: LoadedVersion): LoadedVersion | undefined {
    const previous = this.versions.get(version.version);
    this.versions.set(version.version, version);
    this.lastSignature = version.signature;
    this.#resort();
    return previous;
  }

  delete(version: string): LoadedVersion | undefined {
    const previous = this.versions.get(version);
    this.versions.delete(version);
    this.#resort();
    return previous;
  }

  /** Newest ready version not in `exclude`; falls back to the newest overall so candidates still serve when alone. */
  latest(exclude: ReadonlySet<string> = EMPTY): LoadedVersion | undefined {
    for (let i = this.#sorted.length - 1; i >= 0; i--) {
      const id = this.#sorted[i]!;
      if (!exclude.has(id)) return this.versions.get(id);
    }
    const newest = this.#sorted.at(-1);
    return newest === undefined ? undefined : this.versions.get(newest);
  }

  #resort(): void {
    this.#sorted = [...this.versions.keys()].sort(compareVersions);
  }
}

const EMPTY: ReadonlySet<string> = new Set();

export function compareVersions(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb)) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface RegistryOptions {
  readonly models: readonly ModelDefinition[];
  readonly source: ModelSource;
  readonly loader: ModelLoader;
  readonly log: Logger;
  readonly events: RegistryEvents;
  /** Calls per batch size during warm-up, so the first real request does not pay for lazy allocations. */
  readonly warmupRuns: number;
  /** Refuse versions without golden.json. */
  readonly requireGolden: boolean;
  /** Largest batch a request may carry; warmed up too. */
  readonly maxRows: number;
}

/**
 * Keeps every configured model's versions loaded and current. `sync()` compares the repository with
 * what is loaded: a new or changed version is loaded, warmed up and checked against its golden.json
 * BEFORE it is swapped in (one Map assignment, so a request sees either the old or the new version,
 * never a half-loaded one); a version that fails is refused, logged and counted, and whatever served
 * before keeps serving.
 */
export class ModelRegistry {
  readonly #opts: RegistryOptions;
  readonly #slots = new Map<string, ModelSlot>();
  #syncing: Promise<void> | undefined;
  #closed = false;

  constructor(opts: RegistryOptions) {
    this.#opts = opts;
    for (const def of opts.models) this.#slots.set(def.name, new ModelSlot(def));
  }

  get(model: string): ModelSlot | undefined {
    return this.#slots.get(model);
  }

  get slots(): IterableIterator<ModelSlot> {
    return this.#slots.values();
  }

  /** Names of models not ready yet (empty when the service may take traffic). */
  notReady(): string[] {
    return [...this.#slots.values()].filter((s) => !s.ready).map((s) => s.name);
  }

  /** One pass over every model; concurrent callers share the pass in progress. */
  sync(): Promise<void> {
    this.#syncing ??= this.#syncAll().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#syncing?.catch(() => undefined);
    const all: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      for (const v of slot.versions.values()) all.push(v.retire());
    }
    await Promise.all(all);
  }

  async #syncAll(): Promise<void> {
    // One model at a time: loading and warming up is CPU work that competes with live traffic.
    for (const slot of this.#slots.values()) {
      if (this.#closed) return;
      try {
        if (slot.remote) await this.#syncRemote(slot, slot.remote);
        else await this.#syncLocal(slot);
      } catch (err) {
        this.#opts.log.error({ err, model: slot.name }, 'model sync failed');
      } finally {
        slot.initialized = true;
      }
    }
  }

  async #syncLocal(slot: ModelSlot): Promise<void> {
    const listings = (await this.#opts.source.listVersions(slot.name)).sort((a, b) =>
      compareVersions(a.version, b.version),
    );
    slot.hasArtifacts = listings.length > 0 || slot.versions.size > 0;
    await this.#readRelease(slot);
    const routing = resolveRouting(slot.settings, slot.release);
    let changed = false;
    const current = (l: VersionListing) => slot.versions.get(l.version)?.fingerprint === l.fingerprint;
    const refused = (l: VersionListing) => slot.failed.get(l.version) === l.fingerprint;
    /** Loads `l` unless it is loaded and unchanged; true when it serves afterwards. */
    const ensure = async (l: VersionListing): Promise<boolean> => {
      if (current(l)) return true;
      if (refused(l)) return false;
      const loaded = await this.#loadVersion(slot, l);
      changed = loaded || changed;
      return loaded;
    };
    // Until the switch below, unpinned calls keep the routing they had, with the new candidates excluded
    // too: a candidate loaded by this pass must not become "the newest" and serve, even for a moment.
    const before = slot.routing;
    const beforeServing = slot.initialized ? slot.stable()?.version : undefined;
    slot.routing = { ...before, candidates: new Set([...before.candidates, ...routing.candidates]) };
    const wanted = new Set<string>();
    if (slot.loadServedOnly) {
      // What unpinned calls get first: the preferred version, else (none, absent, or refused by its
      // checks) the newest that is not a candidate, newest first until one serves.
      const preferred = listings.find((l) => l.version === routing.preferred);
      let serves = false;
      if (preferred) {
        wanted.add(preferred.version);
        serves = await ensure(preferred);
      }
      for (const listing of [...listings].reverse()) {
        if (serves || this.#closed) break;
        if (routing.candidates.has(listing.version)) continue;
        wanted.add(listing.version);
        serves = await ensure(listing);
      }
    }
    for (const listing of listings) {
      if (this.#closed) return;
      if (slot.loadServedOnly && !routing.named.has(listing.version)) continue;
      wanted.add(listing.version);
      await ensure(listing);
    }
    if (this.#closed) return;
    // The switch: every version the new routing names is loaded and checked by now, so from this
    // assignment on unpinned calls get the new serving version, and never a version not yet warm.
    slot.routing = routing;
    this.#reportRouting(slot, before, beforeServing);
    for (const id of [...slot.versions.keys()]) {
      // A version removed from disk (or no longer served) is unloaded, but never the last one: an emptied
      // directory (a bad sync, a mistaken delete) must not take the model down. In-flight calls finish on
      // it first (LoadedVersion.retire).
      if (wanted.has(id) || slot.versions.size <= 1) continue;
      void slot.delete(id)?.retire();
      this.#opts.log.info(
        { model: slot.name, version: id },
        slot.loadServedOnly
          ? 'model version removed from repository or no longer served; unloaded'
          : 'model version removed from repository; unloaded',
      );
      changed = true;
    }
    if (changed) this.#opts.events.versionsChanged(slot.name, slot.versionIds);
  }

  /** Reads the model's release.json into the slot; a refused file is logged once and counted. */
  async #readRelease(slot: ModelSlot): Promise<void> {
    const read = this.#opts.source.readRelease;
    if (read === undefined) return;
    let text: string | undefined;
    let taken: ReturnType<ModelSlot['takeRelease']>;
    try {
      text = await read.call(this.#opts.source, slot.name);
      taken = slot.takeRelease(text);
    } catch (err) {
      // Unreadable (permissions, I/O): the same as refused, keyed by the error so it is logged once.
      taken = slot.takeRelease(`\u0000unreadable: ${(err as Error).message}`);
    }
    if (taken.outcome !== 'refused' || !taken.first) return;
    this.#opts.events.releaseRefused(slot.name);
    this.#opts.log.error(
      {
        model: slot.name,
        problem: taken.message,
        lastGood: slot.release ? { serving: slot.release.serving, candidate: slot.release.candidate } : null,
      },
      'release.json refused; the last good release keeps applying',
    );
  }

  /** Logs what changed in what serves, and where MODEL_SETTINGS overrides release.json. */
  #reportRouting(slot: ModelSlot, before: Routing, beforeServing: string | undefined): void {
    const after = slot.routing;
    const serving = slot.stable()?.version;
    if (
      serving === beforeServing &&
      after.candidate === before.candidate &&
      after.shadow?.version === before.shadow?.version &&
      after.releaseServing === before.releaseServing
    )
      return;
    const log = this.#opts.log;
    log.info(
      {
        model: slot.name,
        serving: serving ?? null,
        previous: beforeServing ?? null,
        source: slot.servingSource(),
        candidate: after.candidate ?? null,
        shadow: after.shadow ? { version: after.shadow.version, percent: after.shadow.percent } : null,
      },
      'model serving changed',
    );
    const settings = slot.settings;
    if (
      settings.defaultVersion !== undefined &&
      after.releaseServing !== undefined &&
      after.releaseServing !== settings.defaultVersion
    ) {
      log.warn(
        { model: slot.name, defaultVersion: settings.defaultVersion, releaseServing: after.releaseServing },
        'MODEL_SETTINGS defaultVersion overrides release.json serving',
      );
    }
    if (
      settings.shadow !== undefined &&
      after.candidate !== undefined &&
      settings.shadow.version !== after.candidate
    ) {
      log.warn(
        { model: slot.name, shadow: settings.shadow.version, candidate: after.candidate },
        'MODEL_SETTINGS shadow overrides mirroring the release.json candidate',
      );
    }
    if (
      after.releaseServing !== undefined &&
      after.preferredFrom === 'release' &&
      serving !== after.releaseServing
    ) {
      log.warn(
        { model: slot.name, releaseServing: after.releaseServing, serving: serving ?? null },
        'release.json serving version is not in the repository or failed its checks; serving the newest instead',
      );
    }
  }

  async #loadVersion(slot: ModelSlot, listing: VersionListing): Promise<boolean> {
    const { source, loader, log, events } = this.#opts;
    const { version, fingerprint } = listing;
    let backend: InferenceBackend | undefined;
    const started = performance.now();
    try {
      const checked = await loadCheckedVersion({
        source,
        loader,
        model: slot.name,
        version,
        requireGolden: this.#opts.requireGolden,
        warmUp: (part, signature, golden) => this.#warmUp(part, signature, golden),
      });
      backend = checked.backend;
      const { signature } = checked;
      const width = signature.features.length;
      if (this.#closed) {
        await backend.close();
        return false;
      }
      const previous = slot.set(
        new LoadedVersion({
          model: slot.name,
          version,
          platform: loader.platform,
          signature,
          backend,
          fingerprint,
        }),
      );
      slot.failed.delete(version);
      void previous?.retire();
      events.reload(slot.name, version, 'success');
      log.info(
        { model: slot.name, version, features: width, ms: Math.round(performance.now() - started) },
        previous ? 'model version reloaded' : 'model version loaded',
      );
      return true;
    } catch (err) {
      await backend?.close().catch(() => undefined);
      slot.failed.set(version, fingerprint);
      events.reload(slot.name, version, 'failure');
      log.error(
        { err, model: slot.name, version, serving: slot.versionIds },
        'model version refused; previous versions keep serving',
      );
      return false;
    }
  }

  async #warmUp(
    backend: InferenceBackend,
    signature: ModelSignature,
    golden: Golden | undefined,
  ): Promise<void> {
    const width = signature.features.length;
    const row = golden ? golden.input.subarray(0, width) : new Float32Array(width);
    const outputs = signature.outputs.map((o) => o.name);
    const budget = budgetOf(60_000);
    const big = new Float32Array(this.#opts.maxRows * width);
    for (let r = 0; r < this.#opts.maxRows; r++) big.set(row, r * width);
    for (let i = 0; i < this.#opts.warmupRuns; i++) {
      await backend.infer(row, 1, outputs, budget);
      if (i % 10 === 0) await backend.infer(big, this.#opts.maxRows, outputs, budget);
    }
  }

  async #syncRemote(slot: ModelSlot, remote: RemoteModel): Promise<void> {
    slot.hasArtifacts = true;
    const described = await remote.describe();
    let changed = false;
    for (const version of described.versions) {
      if (slot.versions.has(version)) continue;
      slot.set(
        new LoadedVersion({
          model: slot.name,
          version,
          platform: described.platform,
          signature: described.signature,
          backend: remote.backend(version, described.signature),
          fingerprint: 'remote',
        }),
      );
      this.#opts.events.reload(slot.name, version, 'success');
      this.#opts.log.info({ model: slot.name, version }, 'remote model version available');
      changed = true;
    }
    if (changed) this.#opts.events.versionsChanged(slot.name, slot.versionIds);
  }
}
