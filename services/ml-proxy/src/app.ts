import {
  buildService,
  type BuildServiceOptions,
  createHttpClient,
  type HttpClient,
  type ServiceApp,
} from '@eta/service-kit';
import pkg from '../package.json' with { type: 'json' };
import { createFsModelSource } from './adapters/fs-repository.ts';
import { createOnnxLoader } from './adapters/onnx.ts';
import { createRemoteModel } from './adapters/remote-v2.ts';
import { type Config, type ModelSettings } from './config.ts';
import { InferenceService, type ModelPolicy } from './domain/inference.ts';
import { DEFAULT_INPUT_NAME, DEFAULT_OUTPUTS, type ModelSignature } from './domain/model.ts';
import {
  type ModelDefinition,
  type ModelLoader,
  ModelRegistry,
  type ModelSource,
} from './domain/registry.ts';
import { type RoutingSettings } from './domain/release.ts';
import { createMetrics } from './http/metrics.ts';
import { registerV2 } from './http/v2.ts';

export const SERVICE_NAME = 'ml-proxy';

export interface AppDeps {
  readonly logStream?: BuildServiceOptions['logStream'];
  /** Where versions come from; the MODEL_REPOSITORY directory by default. */
  readonly source?: ModelSource;
  /** How a version file becomes a backend; ONNX Runtime in process by default. */
  readonly loader?: ModelLoader;
  /** Random source for canary (keyless) and shadow sampling; tests make it deterministic. */
  readonly random?: () => number;
}

export interface MlProxyHandle {
  readonly registry: ModelRegistry;
  readonly inference: InferenceService;
  /** Resolves when the first load of every model finished (successfully or not). */
  readonly loaded: Promise<void>;
  /** Runs one repository scan now (tests; the poll timer calls the same). */
  sync(): Promise<void>;
}

export type MlProxyApp = ServiceApp & { readonly mlProxy: MlProxyHandle };

/** Cold-start layout when a model has no trained version and no `features` setting. */
const COLD_START_FEATURES = [
  { name: 'distance_km', nullable: true, unit: 'km' },
  { name: 'hour_of_day', nullable: true, unit: 'hour' },
];

function coldStartSignature(settings: ModelSettings | undefined): ModelSignature {
  const features =
    settings?.features?.map((name) => ({ name, nullable: true, unit: null })) ?? COLD_START_FEATURES;
  return {
    input: { name: DEFAULT_INPUT_NAME, datatype: 'FP32', shape: [-1, features.length] },
    features,
    outputs: DEFAULT_OUTPUTS.map((name) => ({ name, datatype: 'FP32', shape: [-1] })),
  };
}

/** The parts of a model's settings that decide which versions serve (domain/release.ts resolves them with release.json). */
function routingSettings(settings: ModelSettings | undefined): RoutingSettings {
  return {
    defaultVersion: settings?.defaultVersion,
    canary: settings?.canary,
    shadow: settings?.shadow,
    keepLoaded: settings?.keepLoaded ?? [],
    candidateShadow: settings?.candidateShadow,
  };
}

/**
 * Builds the service: V2 routes plus the kit's probes and metrics, and starts loading the models in the
 * background (readiness stays false until every configured model is loaded and warmed). Never listens.
 */
export async function buildApp(config: Config, deps: AppDeps = {}): Promise<MlProxyApp> {
  const app = await buildService({
    name: SERVICE_NAME,
    config,
    version: pkg.version,
    ...(deps.logStream ? { logStream: deps.logStream } : {}),
    openapi: {
      description:
        "The delivery-time models behind the Open Inference Protocol's REST API (KServe V2, /v2): server and " +
        'model metadata, health, and inference, with the binary tensor data extension. Errors under /v2 are ' +
        '`{ error, code }` as V2 clients read them. Called inside the cluster; no credentials.',
    },
  });

  // The gauge reads the registry only when scraped, after it exists.
  const metrics = createMetrics(app.metricsRegistry, () => models, app.log);

  const clients: HttpClient[] = [];
  const definitions: ModelDefinition[] = config.MODELS.map((name) => {
    const settings = config.MODEL_SETTINGS[name];
    const remote = settings?.remote;
    if (!remote) {
      return {
        name,
        coldStartSignature: coldStartSignature(settings),
        routing: routingSettings(settings),
        loadServedOnly: config.MODEL_LOAD_VERSIONS === 'served',
      };
    }
    const client = createHttpClient({
      name: `v2-${name}`,
      origin: remote.url,
      timeoutMs: remote.timeoutMs,
      connections: remote.connections,
      metricsRegistry: app.metricsRegistry,
    });
    clients.push(client);
    return {
      name,
      coldStartSignature: coldStartSignature(settings),
      routing: routingSettings(settings),
      remote: createRemoteModel({ client, upstreamModel: remote.model ?? name, version: remote.version }),
    };
  });

  const models: ModelRegistry = new ModelRegistry({
    models: definitions,
    source: deps.source ?? createFsModelSource(config.MODEL_REPOSITORY),
    loader:
      deps.loader ??
      createOnnxLoader({
        intraOpThreads: config.ORT_INTRA_OP_THREADS,
        execution: config.ORT_EXECUTION,
        inlineMaxRows: config.ORT_INLINE_MAX_ROWS,
        onThreadExit: (code) => {
          if (code !== 0) app.log.warn({ exitCode: code }, 'onnx worker thread did not end by itself');
        },
      }),
    log: app.log,
    events: { ...metrics.events, versionsChanged: () => {} },
    warmupRuns: config.WARMUP_RUNS,
    requireGolden: config.REQUIRE_GOLDEN,
    maxRows: config.MAX_BATCH_ROWS,
  });

  const defaultPolicy: ModelPolicy = {
    deadlineMs: config.MODEL_DEADLINE_MS,
    fallback: config.FALLBACK_ENABLED,
  };
  const policies = new Map<string, ModelPolicy>(
    Object.entries(config.MODEL_SETTINGS).map(([name, s]) => [
      name,
      {
        deadlineMs: s.deadlineMs ?? defaultPolicy.deadlineMs,
        fallback: s.fallback ?? defaultPolicy.fallback,
      },
    ]),
  );
  const inference = new InferenceService({
    registry: models,
    policies,
    defaultPolicy,
    maxRows: config.MAX_BATCH_ROWS,
    observer: metrics.observer,
    maxShadowInflight: config.SHADOW_MAX_INFLIGHT,
    ...(deps.random ? { random: deps.random } : {}),
  });

  app.readiness.add('models', () => {
    const pending = models.notReady();
    if (pending.length > 0) throw new Error(`models not ready: ${pending.join(', ')}`);
  });

  await registerV2(app, {
    inference,
    registry: models,
    serverName: SERVICE_NAME,
    serverVersion: pkg.version,
    // JSON numbers take up to ~24 bytes; 2 KiB a row leaves room for ~80 features per row.
    inferBodyLimit: Math.max(1024 * 1024, config.MAX_BATCH_ROWS * 2048),
  });

  let poll: NodeJS.Timeout | undefined;
  const loaded = models.sync().then(() => {
    if (config.MODEL_POLL_INTERVAL_SECONDS > 0 && !closed) {
      poll = setInterval(() => void models.sync(), config.MODEL_POLL_INTERVAL_SECONDS * 1000);
      // The poll must never keep a draining process alive.
      poll.unref();
    }
  });
  let closed = false;
  app.closeStep('models and upstream clients', async () => {
    closed = true;
    clearInterval(poll);
    await models.close();
    await Promise.all(clients.map((c) => c.close()));
  });

  const handle: MlProxyHandle = { registry: models, inference, loaded, sync: () => models.sync() };
  app.decorate('mlProxy', handle);
  return app as MlProxyApp;
}
