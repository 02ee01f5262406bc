/**
 * The ML proxy client (KServe V2 over HTTP) and the guard on the models' feature layouts.
 *
 * The vectors are built by domain/features.ts. Before a model's answers are used, its metadata
 * (`GET /v2/models/<name>/versions/<v>`: input, outputs, feature names, order and nullability) is compared
 * with that layout, for every version the proxy serves; a version that disagrees makes the process unready
 * and its answers are never used. An answer from a version not checked yet (a hot reload on the proxy)
 * starts a check and is treated as a failure until the check passes, so shifted columns are never served.
 */
import {
  V2FallbackParameters,
  V2Feature,
  V2InferResponse,
  V2ModelMetadata,
  V2ModelParameters,
  V2OutputTensor,
  V2TensorMetadata,
} from '@eta/contracts';
import type { Coalescer, DeadlineLike, DependencyMetrics } from '@eta/service-kit';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { Config } from '../config.ts';
import type { ModelAnswer, ModelPort } from '../domain/estimate.ts';
import { DependencyFailure } from '../domain/fallback.ts';
import {
  layoutDisagreements,
  MODEL_INPUT_NAME,
  MODEL_LAYOUTS,
  type FeatureRow,
  type ModelName,
} from '../domain/features.ts';
import type { Quantiles } from '../domain/estimate-policy.ts';
import { bffDependency } from './geo-ml-calls.ts';

/**
 * Projections of the V2 contract (@eta/contracts v2.ts) with only the fields this client reads, because
 * every infer answer is parsed on the request path: zod drops the other fields without parsing them. The
 * fallback fields are optional: the flag alone decides, and a missing reason is tolerated.
 */
const Metadata = V2ModelMetadata.pick({ name: true, versions: true, inputs: true }).extend({
  outputs: z.array(V2TensorMetadata.pick({ name: true })),
  parameters: V2ModelParameters.extend({ features: z.array(V2Feature.pick({ name: true, nullable: true })) }),
});

const InferAnswer = V2InferResponse.pick({ model_version: true }).extend({
  parameters: V2FallbackParameters.partial().optional(),
  outputs: z.array(V2OutputTensor.pick({ name: true, data: true })),
});

export type LayoutStatus =
  /** Not checked yet, or the proxy could not be asked: answers are not used, readiness is not blocked. */
  | { readonly state: 'unknown'; readonly reason: string }
  | { readonly state: 'ok'; readonly versions: readonly string[] }
  /** A served version disagrees with this code's vectors: not ready. */
  | { readonly state: 'mismatch'; readonly version: string; readonly problems: readonly string[] };

export interface MlClient extends ModelPort {
  /** Checks every model's layout now (start-up, the refresh timer and tests call it). */
  checkLayouts(): Promise<void>;
  /** The models' layout state, for readiness and logs. */
  layouts(): ReadonlyMap<ModelName, LayoutStatus>;
  /** Resolves when the first check of every model finished, whatever its outcome. */
  readonly firstCheck: Promise<void>;
  close(): Promise<void>;
}

export interface MlClientDeps {
  readonly registry: Registry;
  /** Calls, coalesced infer calls and the breakers (watched as `ml-proxy/<model>`). */
  readonly metrics: DependencyMetrics;
  readonly log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  readonly onBreakerChange?: (model: ModelName, to: string, from: string) => void;
}

export function createMlClient(config: Config, models: readonly ModelName[], deps: MlClientDeps): MlClient {
  const onBreakerChange = deps.onBreakerChange;
  const ml = bffDependency(config, {
    name: 'ml-proxy',
    http: {
      origin: config.ML_PROXY_URL,
      timeoutMs: config.ML_TIMEOUT_MS,
      connections: config.ML_CONNECTIONS,
      metricsRegistry: deps.registry,
    },
    metrics: deps.metrics,
    // One breaker per model: a slow eta-precise must not stop the eta-rough calls that stand in for it.
    perOperation: models,
    ...(onBreakerChange
      ? { onBreakerChange: (to, from, model) => onBreakerChange(model as ModelName, to, from) }
      : {}),
    // Each model's breaker probes that model's V2 ready route (the proxy's /readyz speaks for all models).
    probe: (http, model) =>
      http.request({ method: 'GET', path: `/v2/models/${encodeURIComponent(model ?? '')}/ready` }),
  });
  const http = ml.http;

  const status = new Map<ModelName, LayoutStatus>(
    models.map((m) => [m, { state: 'unknown', reason: 'not checked yet' }]),
  );
  /** Versions whose layout was compared and agreed, per model. */
  const agreed = new Map<ModelName, Set<string>>(models.map((m) => [m, new Set<string>()]));
  let checking: Promise<void> | undefined;

  const metadataTimeoutMs = Math.max(config.ML_TIMEOUT_MS, 1_000);

  async function checkModel(model: ModelName): Promise<void> {
    let versions: string[];
    const fetched: [string, z.output<typeof Metadata>][] = [];
    try {
      const top = await http.request({
        method: 'GET',
        path: `/v2/models/${model}`,
        timeoutMs: metadataTimeoutMs,
        schema: Metadata,
      });
      versions = top.body.versions;
      for (const v of versions) {
        const res = await http.request({
          method: 'GET',
          path: `/v2/models/${model}/versions/${encodeURIComponent(v)}`,
          timeoutMs: metadataTimeoutMs,
          schema: Metadata,
        });
        fetched.push([v, res.body]);
      }
    } catch (err) {
      // Unreachable proxy: keep what was known. The ladder answers meanwhile, and readiness is not held
      // hostage by a dependency this process can serve without.
      const prev = status.get(model);
      if (prev?.state !== 'ok' && prev?.state !== 'mismatch') {
        status.set(model, { state: 'unknown', reason: `metadata unavailable: ${(err as Error).message}` });
      }
      deps.log.warn({ err, model }, 'could not read model metadata from the ML proxy');
      return;
    }
    const ok = new Set<string>();
    for (const [version, meta] of fetched) {
      const problems = layoutDisagreements(model, {
        inputs: meta.inputs,
        outputs: meta.outputs,
        features: meta.parameters.features,
      });
      if (problems.length > 0) {
        agreed.set(model, ok);
        status.set(model, { state: 'mismatch', version, problems });
        deps.log.error(
          { model, version, problems },
          'served model layout disagrees with the feature vectors this BFF builds; not ready',
        );
        return;
      }
      ok.add(version);
    }
    agreed.set(model, ok);
    status.set(model, { state: 'ok', versions: [...ok] });
  }

  let lastCheckAt = 0;
  function checkLayouts(): Promise<void> {
    if (checking === undefined) lastCheckAt = Date.now();
    checking ??= Promise.all(models.map(checkModel))
      .then(() => undefined)
      .finally(() => {
        checking = undefined;
      });
    return checking;
  }

  const firstCheck = checkLayouts();
  const refresh = setInterval(() => void checkLayouts(), config.MODEL_LAYOUT_REFRESH_SECONDS * 1000);
  // The refresh must never keep a draining process alive.
  refresh.unref();

  /** Fails fast, before any call, while no served version of the model has a checked layout. */
  function requireLayout(model: ModelName): void {
    if (agreed.get(model)?.size === 0) {
      // The proxy was unreachable at start or has just come back: check again now rather than answer
      // manual times until the next refresh, but at most once a second however many requests ask.
      if (status.get(model)?.state === 'unknown' && Date.now() - lastCheckAt >= 1_000) void checkLayouts();
      throw ml.refuse(model, 'layout', `${model}: no served version with a checked layout`);
    }
  }

  async function send(
    model: ModelName,
    rows: readonly FeatureRow[],
    budget: DeadlineLike,
  ): Promise<ModelAnswer> {
    if (!models.includes(model)) throw new Error(`model ${model} is not configured for this role`);
    requireLayout(model);
    const width = MODEL_LAYOUTS[model].length;
    return ml.call(model, budget, async (b) => {
      const res = await http.request({
        method: 'POST',
        path: `/v2/models/${model}/infer`,
        body: {
          inputs: [
            { name: MODEL_INPUT_NAME, shape: [rows.length, width], datatype: 'FP32', data: rows.flat() },
          ],
        },
        deadline: b,
        schema: InferAnswer,
      });
      const body = res.body;
      if (body.parameters?.fallback === true) {
        throw new DependencyFailure(
          'ml-proxy',
          'model-fallback',
          `${model}: the proxy answered with its heuristic (${body.parameters.reason ?? 'no reason'})`,
        );
      }
      if (!agreed.get(model)?.has(body.model_version)) {
        void checkLayouts();
        throw new DependencyFailure(
          'ml-proxy',
          'layout',
          `${model}: version ${body.model_version} not checked yet`,
        );
      }
      const col = (name: string) => body.outputs.find((o) => o.name === name)?.data;
      const p10 = col('p10');
      const p50 = col('p50');
      const p90 = col('p90');
      if (
        !p10 ||
        !p50 ||
        !p90 ||
        p50.length !== rows.length ||
        p10.length !== rows.length ||
        p90.length !== rows.length
      ) {
        throw new DependencyFailure(
          'ml-proxy',
          'bad-body',
          `${model}: outputs do not match ${rows.length} rows`,
        );
      }
      const out: Quantiles[] = new Array<Quantiles>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = { p10: p10[i]!, p50: p50[i]!, p90: p90[i]! };
      return { version: body.model_version, rows: out };
    });
  }

  // One coalescer per model: the rows of the requests asking in one event-loop turn go in one infer call,
  // and each request gets its own rows of the answer back.
  const coalescers = new Map<ModelName, Coalescer<readonly FeatureRow[], ModelAnswer>>();
  for (const model of models) {
    coalescers.set(
      model,
      ml.coalescer<readonly FeatureRow[], ModelAnswer>(model, {
        maxWeight: config.ML_COALESCE_MAX_ROWS,
        holdWhileBusyMs: config.DEPENDENCY_COALESCE_HOLD_MS,
        weight: (rows) => rows.length,
        send: async (asks, budget) => {
          if (asks.length === 1) return [await send(model, asks[0]!, budget)];
          const answer = await send(model, asks.flat(), budget);
          const out = new Array<ModelAnswer>(asks.length);
          let at = 0;
          for (let i = 0; i < asks.length; i++) {
            const n = asks[i]!.length;
            out[i] = { version: answer.version, rows: answer.rows.slice(at, at + n) };
            at += n;
          }
          return out;
        },
      }),
    );
  }

  async function infer(
    model: ModelName,
    rows: readonly FeatureRow[],
    budget: DeadlineLike,
  ): Promise<ModelAnswer> {
    const coalescer = coalescers.get(model);
    // send() refuses a model this role does not serve.
    if (!config.DEPENDENCY_COALESCE || coalescer === undefined) return send(model, rows, budget);
    // Checked here too, so a request is refused at once rather than after the turn.
    requireLayout(model);
    return coalescer.submit(rows, budget);
  }

  return {
    infer,
    checkLayouts,
    layouts: () => status,
    firstCheck,
    close: async () => {
      clearInterval(refresh);
      await ml.close();
    },
  };
}
