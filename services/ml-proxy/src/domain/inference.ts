import { deadlineExceeded, notFound, unavailable } from './errors.ts';
import { HEURISTIC_VERSION, runHeuristic } from './heuristic.ts';
import { budgetOf, type InferenceResult, type ModelSignature } from './model.ts';
import { type LoadedVersion, type ModelRegistry, type ModelSlot } from './registry.ts';
import { type CanarySpec, compareOutputs, inCanary, inShadow, type ShadowComparison } from './routing.ts';
import { type RequestInput, type RequestOutput, validateTensor, type ValidatedTensor } from './tensor.ts';

/**
 * How calls to one model are run. Which version serves (default, canary, shadow, release.json) is the
 * model slot's `routing` (domain/release.ts), which a repository scan may change while running.
 */
export interface ModelPolicy {
  /** Budget for one backend call; past it the caller gets the heuristic (or 504 when fallback is off). */
  readonly deadlineMs: number;
  /** Answer with the heuristic when the backend fails or is late. */
  readonly fallback: boolean;
}

export type FallbackReason = 'no_trained_model' | 'model_unavailable' | 'backend_error' | 'deadline';

export interface InferenceObserver {
  inference(
    model: string,
    version: string,
    seconds: number,
    rows: number,
    outcome: 'ok' | 'error' | 'deadline',
  ): void;
  fallback(model: string, reason: FallbackReason): void;
  /** A backend call failed (not: was late); the heuristic or an error answered instead. */
  backendError(model: string, version: string, err: unknown): void;
  shadow(model: string, version: string, comparisons: readonly ShadowComparison[]): void;
  shadowError(model: string, version: string): void;
}

export interface InferRequest {
  readonly id?: string | undefined;
  readonly inputs: readonly RequestInput[];
  readonly outputs?: readonly RequestOutput[] | undefined;
}

export interface InferContext {
  /** Canary bucketing key; random split when undefined. */
  readonly stickyKey?: string | undefined;
  /** Caller's remaining budget; the tighter of this and the model deadline applies. */
  readonly budgetMs?: number | undefined;
  /** Echoed as `id` when the request carries none. */
  readonly requestId?: string | undefined;
}

export interface OutputTensor {
  readonly name: string;
  readonly datatype: 'FP32';
  readonly shape: number[];
  readonly data: number[];
}

export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly parameters?: { fallback: true; reason: FallbackReason };
  readonly outputs: OutputTensor[];
}

export interface InferenceServiceOptions {
  readonly registry: ModelRegistry;
  readonly policies: ReadonlyMap<string, ModelPolicy>;
  readonly defaultPolicy: ModelPolicy;
  readonly maxRows: number;
  readonly observer: InferenceObserver;
  /** Shadow calls allowed in flight at once; beyond it shadows are skipped so they never queue up behind live traffic. */
  readonly maxShadowInflight: number;
  readonly random?: () => number;
}

class DeadlineError extends Error {}

/**
 * The inference use case: pick the version (pin, canary, default), validate the tensor against THAT
 * version's signature, run it in one backend call under a deadline, fall back to the heuristic when it
 * fails, and mirror to a shadow candidate afterwards.
 */
export class InferenceService {
  readonly #o: InferenceServiceOptions;
  readonly #random: () => number;
  #shadowInflight = 0;

  constructor(opts: InferenceServiceOptions) {
    this.#o = opts;
    this.#random = opts.random ?? Math.random;
  }

  policy(model: string): ModelPolicy {
    return this.#o.policies.get(model) ?? this.#o.defaultPolicy;
  }

  /** The model's canary as it serves now (undefined for an unknown model or none). */
  canary(model: string): CanarySpec | undefined {
    return this.#o.registry.get(model)?.routing.canary;
  }

  slot(model: string): ModelSlot {
    const slot = this.#o.registry.get(model);
    if (!slot) throw notFound(`model '${model}' not found`, 'MODEL_NOT_FOUND');
    return slot;
  }

  /** The version a metadata or ready call addresses; undefined version means "what unpinned requests get". */
  describe(
    model: string,
    version: string | undefined,
  ): { slot: ModelSlot; loaded: LoadedVersion | undefined } {
    const slot = this.slot(model);
    if (version === undefined) return { slot, loaded: slot.stable() };
    if (version === HEURISTIC_VERSION) return { slot, loaded: undefined };
    const loaded = slot.versions.get(version);
    if (loaded) return { slot, loaded };
    if (!slot.initialized) throw unavailable(`model '${model}' is still loading`);
    if (slot.failed.has(version)) throw unavailable(`model '${model}' version '${version}' failed to load`);
    throw notFound(`model '${model}' has no version '${version}'`, 'VERSION_NOT_FOUND');
  }

  async infer(
    model: string,
    pinned: string | undefined,
    request: InferRequest,
    ctx: InferContext = {},
  ): Promise<InferResponse> {
    const slot = this.slot(model);
    const policy = this.policy(model);
    const id = request.id ?? ctx.requestId;
    const target = this.#choose(slot, policy, pinned, ctx.stickyKey);

    if (target.kind === 'heuristic') {
      const tensor = validateTensor(slot.lastSignature, request.inputs, request.outputs, this.#o.maxRows);
      if (target.reason) this.#o.observer.fallback(model, target.reason);
      const result = runHeuristic(slot.lastSignature, tensor.data, tensor.rows, tensor.outputs);
      return respond(model, HEURISTIC_VERSION, id, slot.lastSignature, tensor, result, target.reason);
    }

    const version = target.version;
    const tensor = validateTensor(version.signature, request.inputs, request.outputs, this.#o.maxRows);
    const budget = Math.min(policy.deadlineMs, ctx.budgetMs ?? Number.POSITIVE_INFINITY);
    let result: InferenceResult;
    try {
      result = await this.#call(version, tensor, budget);
    } catch (err) {
      const reason: FallbackReason = err instanceof DeadlineError ? 'deadline' : 'backend_error';
      if (reason === 'backend_error') this.#o.observer.backendError(model, version.version, err);
      if (!policy.fallback) {
        if (reason === 'deadline')
          throw deadlineExceeded(`model '${model}' missed its ${budget} ms deadline`);
        throw unavailable(`model '${model}' version '${version.version}' failed`);
      }
      this.#o.observer.fallback(model, reason);
      const fallback = runHeuristic(version.signature, tensor.data, tensor.rows, tensor.outputs);
      return respond(model, HEURISTIC_VERSION, id, version.signature, tensor, fallback, reason);
    }

    this.#maybeShadow(slot, policy, version, tensor, result);
    return respond(model, version.version, id, version.signature, tensor, result, undefined);
  }

  #choose(
    slot: ModelSlot,
    policy: ModelPolicy,
    pinned: string | undefined,
    stickyKey: string | undefined,
  ): { kind: 'heuristic'; reason: FallbackReason | undefined } | { kind: 'model'; version: LoadedVersion } {
    if (pinned !== undefined) {
      if (pinned === HEURISTIC_VERSION) return { kind: 'heuristic', reason: undefined };
      const loaded = this.describe(slot.name, pinned).loaded;
      if (loaded) return { kind: 'model', version: loaded };
      throw notFound(`model '${slot.name}' has no version '${pinned}'`, 'VERSION_NOT_FOUND');
    }
    if (slot.versions.size === 0) {
      if (!slot.initialized) throw unavailable(`model '${slot.name}' is still loading`);
      if (!slot.hasArtifacts) return { kind: 'heuristic', reason: 'no_trained_model' };
      if (policy.fallback) return { kind: 'heuristic', reason: 'model_unavailable' };
      throw unavailable(`model '${slot.name}' has no servable version`);
    }
    const canary = slot.routing.canary;
    if (canary && inCanary(slot.name, canary, stickyKey, this.#random)) {
      const candidate = slot.versions.get(canary.version);
      if (candidate) return { kind: 'model', version: candidate };
    }
    // Candidates (canary, shadow, release.json's) are never "the newest", so loading one for a canary or
    // a shadow does not shift all traffic to it.
    return { kind: 'model', version: slot.stable()! };
  }

  async #call(version: LoadedVersion, tensor: ValidatedTensor, budgetMs: number): Promise<InferenceResult> {
    const started = performance.now();
    const budget = budgetOf(budgetMs);
    version.acquire();
    const call = version.backend.infer(tensor.data, tensor.rows, tensor.outputs, budget);
    // The reference is held until the backend call itself settles, not until the race below ends: a
    // late call still uses the session, which a hot reload must not release under it.
    void call.then(
      () => version.release(),
      () => version.release(),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError()), budgetMs);
    });
    let outcome: 'ok' | 'error' | 'deadline' = 'error';
    try {
      const result = await Promise.race([call, late]);
      checkResult(tensor, result);
      outcome = 'ok';
      return result;
    } catch (err) {
      if (err instanceof DeadlineError) outcome = 'deadline';
      throw err;
    } finally {
      clearTimeout(timer);
      this.#o.observer.inference(
        version.model,
        version.version,
        (performance.now() - started) / 1000,
        tensor.rows,
        outcome,
      );
    }
  }

  #maybeShadow(
    slot: ModelSlot,
    policy: ModelPolicy,
    served: LoadedVersion,
    tensor: ValidatedTensor,
    primary: InferenceResult,
  ): void {
    const spec = slot.routing.shadow;
    if (!spec || spec.version === served.version || !inShadow(spec, this.#random)) return;
    const candidate = slot.versions.get(spec.version);
    if (!candidate || this.#shadowInflight >= this.#o.maxShadowInflight) return;
    this.#shadowInflight++;
    // setImmediate: the caller's response is written first; the shadow runs after, off its latency.
    setImmediate(() => {
      this.#call(candidate, tensor, policy.deadlineMs)
        .then(
          (result) =>
            this.#o.observer.shadow(
              slot.name,
              candidate.version,
              compareOutputs(primary, result, tensor.outputs, spec.tolerance),
            ),
          () => this.#o.observer.shadowError(slot.name, candidate.version),
        )
        .finally(() => {
          this.#shadowInflight--;
        });
    });
  }
}

function checkResult(tensor: ValidatedTensor, result: InferenceResult): void {
  for (const name of tensor.outputs) {
    const values = result[name];
    if (values === undefined || values.length !== tensor.rows) {
      throw new Error(
        `backend answered output '${name}' with ${values?.length ?? 0} values for ${tensor.rows} rows`,
      );
    }
    // A non-finite ETA is never an answer (and JSON cannot carry it): treat it as a failed call.
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]))
        throw new Error(`backend answered output '${name}' with a non-finite value`);
    }
  }
}

function respond(
  model: string,
  version: string,
  id: string | undefined,
  signature: ModelSignature,
  tensor: ValidatedTensor,
  result: InferenceResult,
  fallback: FallbackReason | undefined,
): InferResponse {
  const outputs: OutputTensor[] = tensor.outputs.map((name) => {
    const declared = signature.outputs.find((o) => o.name === name)?.shape ?? [-1];
    return {
      name,
      datatype: 'FP32',
      shape: declared.map((d) => (d === -1 ? tensor.rows : d)),
      data: Array.from(result[name]!),
    };
  });
  return {
    model_name: model,
    model_version: version,
    ...(id === undefined ? {} : { id }),
    ...(fallback === undefined ? {} : { parameters: { fallback: true, reason: fallback } }),
    outputs,
  };
}
