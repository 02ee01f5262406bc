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

/** metadata.json written next to each model.onnx by ml/ (see ml/eta_models). Unknown keys are kept out. */
const FeatureJson = z.object({
  name: z.string().min(1),
  nullable: z.boolean().default(false),
  unit: z.string().nullable().default(null),
});

const TensorJson = z.object({
  name: z.string().min(1),
  datatype: z.string().optional(),
  shape: z.array(z.number().int()).optional(),
});

export const MetadataJson = z.object({
  features: z.array(FeatureJson).min(1),
  inputs: z.array(TensorJson).optional(),
  input_name: z.string().optional(),
  outputs: z.array(z.union([z.string(), TensorJson])).optional(),
  platform: z.string().optional(),
});
export type MetadataJson = z.output<typeof MetadataJson>;

export const DEFAULT_INPUT_NAME = 'features';
export const DEFAULT_OUTPUTS = ['p10', 'p50', 'p90'] as const;

/** Builds the serving signature from metadata.json; throws with a readable message when it is unusable. */
export function signatureFromMetadata(raw: unknown): ModelSignature {
  const meta = MetadataJson.parse(raw);
  const inputName = meta.inputs?.[0]?.name ?? meta.input_name ?? DEFAULT_INPUT_NAME;
  const declared = meta.inputs?.[0]?.datatype;
  if (declared !== undefined && declared !== 'FP32' && declared !== 'float32') {
    throw new Error(`input ${inputName} has datatype ${declared}; only FP32 is supported`);
  }
  const outputNames = (meta.outputs ?? [...DEFAULT_OUTPUTS]).map((o) => (typeof o === 'string' ? o : o.name));
  return {
    input: { name: inputName, datatype: 'FP32', shape: [-1, meta.features.length] },
    features: meta.features,
    outputs: outputNames.map((name) => ({ name, datatype: 'FP32', shape: [-1] })),
  };
}
