import { fileURLToPath } from 'node:url';
import { baseServiceEnv, envBool, envInt, envList, envNumber, envPort, z } from '@eta/config';
import { DEFAULT_INLINE_MAX_ROWS } from './adapters/onnx.ts';
import { DEFAULT_CANDIDATE_SHADOW } from './domain/release.ts';

/**
 * The committed reference models (<repo>/ml/models), found from this file rather than the working
 * directory so `pnpm start`, tests and the benchmark all work from anywhere. Images set MODEL_REPOSITORY.
 */
export const DEFAULT_MODEL_REPOSITORY = fileURLToPath(new URL('../../../ml/models', import.meta.url));

const version = z.string().regex(/^[1-9]\d{0,8}$/, { message: 'expected a version number such as "2"' });
const percent = z.number().min(0).max(100);

/** Per-model settings: MODEL_SETTINGS is a JSON object keyed by model name. */
export const ModelSettings = z.strictObject({
  /** Budget for one backend call; the caller gets the heuristic past it. */
  deadlineMs: z.number().int().min(1).max(60_000).optional(),
  /**
   * Version unpinned requests get; otherwise release.json's `serving`, else the newest that is not a
   * canary, shadow or release candidate. Set here, it wins over release.json (domain/release.ts).
   */
  defaultVersion: version.optional(),
  /** false: answer 503/504 instead of the heuristic when the model fails or is late. */
  fallback: z.boolean().optional(),
  canary: z
    .strictObject({
      version,
      percent,
      /** `id` (the V2 request id) or `header:<name>`; requests without the key are split at random. */
      stickyBy: z
        .string()
        .regex(/^(id|header:[a-z0-9-]+)$/, { message: 'expected "id" or "header:<lower-case-name>"' })
        .default('id'),
    })
    .optional(),
  /** Mirror a share of requests to this version. Set here, it wins over mirroring release.json's candidate. */
  shadow: z
    .strictObject({
      version,
      percent,
      /** Absolute difference (model output units: minutes) above which a value counts as different. */
      tolerance: z.number().nonnegative().default(0.5),
    })
    .optional(),
  /**
   * How release.json's candidate is mirrored when no `shadow` is set: 10 % by default (the shadow's CPU
   * is spent on the same pod; DEFAULT_CANDIDATE_SHADOW in domain/release.ts says why), `percent: 0` stops it.
   */
  candidateShadow: z
    .strictObject({
      percent: percent.default(DEFAULT_CANDIDATE_SHADOW.percent),
      tolerance: z.number().nonnegative().default(DEFAULT_CANDIDATE_SHADOW.tolerance),
    })
    .optional(),
  /** Serve this model from a remote V2 server instead of the repository. */
  remote: z
    .strictObject({
      url: z
        .string()
        .refine((v) => /^https?:\/\/[^/]+\/?$/.test(v), { message: 'expected http(s)://host:port' }),
      model: z.string().min(1).optional(),
      version: version.optional(),
      timeoutMs: z.number().int().min(1).max(60_000).default(1000),
      connections: z.number().int().min(1).max(1024).default(16),
    })
    .optional(),
  /**
   * Versions kept loaded for calls pinned to them (`/versions/{v}/infer`), beside the default, canary,
   * shadow and release ones. With MODEL_LOAD_VERSIONS=served (the default) a version not served or kept answers
   * pinned calls 404.
   */
  keepLoaded: z.array(version).default([]),
  /** Input columns for the cold-start heuristic while no trained version exists. */
  features: z.array(z.string().min(1)).min(1).optional(),
});
export type ModelSettings = z.output<typeof ModelSettings>;

const settingsJson = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'expected a JSON object keyed by model name' });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), ModelSettings))
  .optional()
  .transform((v) => v ?? {});

export const configSchema = baseServiceEnv
  .extend({
    PORT: envPort(8082),
    MODEL_REPOSITORY: z.string().min(1).default(DEFAULT_MODEL_REPOSITORY),
    /** Models this instance serves; it is ready only when every one of them is. */
    MODELS: envList()
      .pipe(
        z.array(z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'invalid model name' })).min(1),
      )
      .default(['eta-rough', 'eta-precise']),
    /** How often the repository is scanned for new versions; 0 turns hot reload off. */
    MODEL_POLL_INTERVAL_SECONDS: envNumber(10, { min: 0, max: 3600 }),
    MODEL_SETTINGS: settingsJson,
    MODEL_DEADLINE_MS: envInt(50, { min: 1, max: 60_000 }),
    /**
     * `served`: load only the versions this pod serves (MODEL_SETTINGS' defaultVersion, else release.json's
     * serving, else the newest; canary, shadow, the release's candidate and keepLoaded); `all`: every
     * version in the repository, each reachable pinned.
     */
    MODEL_LOAD_VERSIONS: z.enum(['served', 'all'], { message: 'expected served or all' }).default('served'),
    FALLBACK_ENABLED: envBool(true),
    ORT_INTRA_OP_THREADS: envInt(1, { min: 1, max: 64 }),
    /**
     * `auto`: per version, batches of at most ORT_INLINE_MAX_ROWS rows on the event loop and bigger ones
     * in a worker thread (two sessions per version); `thread`: all in the worker; `inline`: all on the loop.
     */
    ORT_EXECUTION: z
      .enum(['auto', 'thread', 'inline'], { message: 'expected auto, thread or inline' })
      .default('auto'),
    /** `auto` only: largest batch run on the event loop (0 sends every call to the worker thread). */
    ORT_INLINE_MAX_ROWS: envInt(DEFAULT_INLINE_MAX_ROWS, { min: 0, max: 100_000 }),
    MAX_BATCH_ROWS: envInt(1000, { min: 1, max: 100_000 }),
    WARMUP_RUNS: envInt(20, { min: 0, max: 10_000 }),
    REQUIRE_GOLDEN: envBool(true),
    SHADOW_MAX_INFLIGHT: envInt(4, { min: 0, max: 1000 }),
  })
  .superRefine((cfg, ctx) => {
    for (const name of Object.keys(cfg.MODEL_SETTINGS)) {
      if (!cfg.MODELS.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['MODEL_SETTINGS', name],
          message: `settings for '${name}', which MODELS does not list`,
        });
      }
    }
  });

export type Config = z.output<typeof configSchema>;
