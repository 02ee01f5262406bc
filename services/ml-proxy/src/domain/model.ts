import { z } from 'zod';

/**
 * What the proxy knows about a model version, independent of where it runs (ONNX Runtime in process, a
 * remote V2 server, or the heuristic). Everything the HTTP layer answers (metadata, validation, which
 * columns the heuristic reads) is derived from this, never from hard-coded feature counts.
 */

/** V2 datatypes we can carry as JSON numbers. The reference models only take FP32. */
export type Datatype = 'FP32';

export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** -1 marks the batch dimension. */
  readonly shape: readonly number[];
}

export interface FeatureSpec {
  readonly name: string;
  /** Whether NaN ("unknown", sent as JSON null) is a value the model was trained on. */
  readonly nullable: boolean;
  readonly unit: string | null;
  /** Categorical features: the only codes the model knows; anything else is refused. */
  readonly codes?: readonly number[];
  /**
   * Numeric features: the inclusive [min, max] the model was trained on (metadata `valid_range`); a value
   * outside it is refused, since trees that never saw it would answer as for the nearest edge without saying so.
   */
  readonly range?: readonly [number, number];
}

export interface ModelSignature {
  /** The one input tensor, shape [-1, features.length]. */
  readonly input: TensorSpec;
  readonly features: readonly FeatureSpec[];
  readonly outputs: readonly TensorSpec[];
}

/**
 * The port every backend implements. `input` holds `rows` rows of `signature.features.length` FP32
 * values, row-major; the whole batch is one call. Returns one array per requested output, `rows` long.
 */
export interface InferenceBackend {
  readonly kind: 'onnx' | 'remote' | 'heuristic';
  infer(
    input: Float32Array,
    rows: number,
    outputs: readonly string[],
    budget: CallBudget,
  ): Promise<InferenceResult>;
  close(): Promise<void>;
  /**
   * Sessions this backend dispatches to, when it has several for one version (ONNX `auto`: an inline
   * one for small batches, a worker-thread one for big ones). The registry verifies each of them
   * (warm-up, golden check) instead of only the path its test batches happen to take; a wrapper that
   * changes `infer` should leave them out or wrap them too.
   */
  readonly parts?: readonly InferenceBackend[];
}

/** Time left for one backend call; `signal` aborts when it runs out (remote calls stop waiting then). */
export interface CallBudget {
  readonly signal: AbortSignal;
  remainingMs(): number;
}

export function budgetOf(ms: number): CallBudget {
  const end = performance.now() + ms;
  let signal: AbortSignal | undefined;
  return {
    get signal() {
      signal ??= AbortSignal.timeout(Math.max(0, end - performance.now()));
      return signal;
    },
    remainingMs: () => Math.max(0, Math.floor(end - performance.now())),
  };
}

export type InferenceResult = Readonly<Record<string, ArrayLike<number>>>;

/** metadata.json written next to each model.onnx by ml/ (see ml/eta_models/features.py). Unknown keys are ignored. */
const FeatureJson = z.object({
  name: z.string().min(1),
  nullable: z.boolean().default(false),
  unit: z.string().nullable().default(null),
  encoding: z.record(z.string(), z.number()).optional(),
  valid_range: z
    .tuple([z.number(), z.number()])
    .refine(([lo, hi]) => lo <= hi, { message: 'valid_range must be [min, max] with min <= max' })
    .optional(),
});

const TensorJson = z.object({
  name: z.string().min(1),
  datatype: z.string().optional(),
  dtype: z.string().optional(),
  shape: z.array(z.number().int()).optional(),
});

export const MetadataJson = z.object({
  features: z.array(FeatureJson).min(1),
  input: TensorJson.optional(),
  inputs: z.array(TensorJson).optional(),
  outputs: z.array(z.union([z.string(), TensorJson])).optional(),
  artifact: z
    .object({
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    })
    .optional(),
});
export type MetadataJson = z.output<typeof MetadataJson>;

export const DEFAULT_INPUT_NAME = 'features';
export const DEFAULT_OUTPUTS = ['p10', 'p50', 'p90'] as const;

const FP32 = new Set(['FP32', 'float32']);

/** Builds the serving signature from metadata.json; throws with a readable message when it is unusable. */
export function signatureFromMetadata(raw: unknown): ModelSignature {
  const meta = MetadataJson.parse(raw);
  const input = meta.input ?? meta.inputs?.[0];
  const inputName = input?.name ?? DEFAULT_INPUT_NAME;
  const declared = input?.datatype ?? input?.dtype;
  if (declared !== undefined && !FP32.has(declared)) {
    throw new Error(`input ${inputName} has datatype ${declared}; only FP32 is supported`);
  }
  const width = meta.features.length;
  if (input?.shape !== undefined && (input.shape.length !== 2 || input.shape[1] !== width)) {
    throw new Error(`input shape [${input.shape.join(',')}] does not match the ${width} listed features`);
  }
  const outputs = (meta.outputs ?? [...DEFAULT_OUTPUTS]).map((o): TensorSpec => {
    const spec = typeof o === 'string' ? { name: o } : o;
    const type = spec.datatype ?? spec.dtype;
    if (type !== undefined && !FP32.has(type))
      throw new Error(`output ${spec.name} has datatype ${type}; only FP32 is supported`);
    // One value per row: [-1] or [-1, 1] (the reference models declare the latter).
    const shape = spec.shape ?? [-1];
    if (shape[0] !== -1 || shape.slice(1).some((d) => d !== 1)) {
      throw new Error(`output ${spec.name} has shape [${shape.join(',')}]; one value per row is supported`);
    }
    return { name: spec.name, datatype: 'FP32', shape };
  });
  return {
    input: { name: inputName, datatype: 'FP32', shape: [-1, width] },
    features: meta.features.map((f) => ({
      name: f.name,
      nullable: f.nullable,
      unit: f.unit,
      ...(f.encoding ? { codes: Object.values(f.encoding) } : {}),
      ...(f.valid_range ? { range: f.valid_range } : {}),
    })),
    outputs,
  };
}

/** The model file's expected SHA-256 when metadata.json records one. */
export function artifactDigest(raw: unknown): string | undefined {
  return MetadataJson.parse(raw).artifact?.sha256;
}
