import { z } from 'zod';

/**
 * The Open Inference Protocol (KServe V2) over REST, as the suite speaks it: ml-proxy serves `/v2` with
 * these schemas (requests AND its own answers), and its clients read what it serves: vendor-bff, and
 * ml-proxy's remote backend when another V2 server (possibly another ml-proxy) serves a model.
 *
 * The protocol's free-form `parameters` objects carry the suite's two extensions:
 * - model metadata `parameters.features`: the input columns in order, so a caller can build rows (and
 *   check that the rows it builds are the ones the served version expects);
 * - an infer answer's `parameters: { fallback: true, reason }`: the answer came from ml-proxy's heuristic,
 *   not from the model.
 *
 * A reader that needs fewer fields, or tolerates a foreign server's omissions, parses a projection of these
 * (`.pick`, `.partial`, `.extend` with a field's own schema made optional), never a restated copy.
 * Protocol: https://kserve.github.io/website/latest/modelserving/data_plane/v2_protocol/
 */

// ---------------------------------------------------------------------------------------------------
// Building blocks

/** A V2 `$parameters` object: free-form; the suite's extensions are typed where they appear. */
export const V2Parameters = z.record(z.string(), z.unknown());
export type V2Parameters = z.infer<typeof V2Parameters>;

/** Tensor contents, row-major; flat or nested arrays, as the protocol allows. */
export const V2TensorData = z.array(z.unknown());

/** A tensor as model metadata describes it; `-1` in `shape` is the variable (batch) dimension. */
export const V2TensorMetadata = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int()),
});
export type V2TensorMetadata = z.infer<typeof V2TensorMetadata>;

/** Path parameters of the per-model routes. */
export const V2ModelPath = z.object({ name: z.string().max(256) });
export const V2VersionPath = V2ModelPath.extend({ version: z.string().max(64) });

/** Every non-2xx answer under `/v2` (V2 SDKs read `error`, not the suite's `{ code, message }`). */
export const V2ErrorBody = z.object({ error: z.string() });
export type V2ErrorBody = z.infer<typeof V2ErrorBody>;

// ---------------------------------------------------------------------------------------------------
// Health and server metadata: GET /v2, /v2/health/live, /v2/health/ready, /v2/models/:name/ready

export const V2ServerMetadata = z.object({
  name: z.string(),
  version: z.string(),
  extensions: z.array(z.string()),
});
export const V2ServerLive = z.object({ live: z.boolean() });
export const V2ServerReady = z.object({ ready: z.boolean() });
export const V2ModelReady = z.object({ name: z.string(), ready: z.boolean() });

// ---------------------------------------------------------------------------------------------------
// Model metadata: GET /v2/models/:name and /v2/models/:name/versions/:version

/** Extension: one input column, in the order of the input tensor's last dimension. */
export const V2Feature = z.object({
  name: z.string(),
  /** Whether null (NaN) is an accepted value for the column. */
  nullable: z.boolean(),
  /** `km`, `hour` ...; null when unitless. */
  unit: z.string().nullable(),
});
export type V2Feature = z.infer<typeof V2Feature>;

/** Extension: what ml-proxy puts in model metadata's `parameters`. */
export const V2ModelParameters = z.object({ features: z.array(V2Feature) });

/** What ml-proxy answers (every field present); the protocol itself makes `versions` and `parameters` optional. */
export const V2ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(V2TensorMetadata),
  outputs: z.array(V2TensorMetadata),
  parameters: V2ModelParameters,
});
export type V2ModelMetadata = z.infer<typeof V2ModelMetadata>;

// ---------------------------------------------------------------------------------------------------
// Inference: POST /v2/models/:name[/versions/:version]/infer

/** One input tensor; the bounds only cap what a request may make the server parse. */
export const V2InferInput = z.object({
  name: z.string().max(256),
  shape: z.array(z.number().int()).max(8),
  datatype: z.string().max(16),
  parameters: V2Parameters.optional(),
  data: V2TensorData,
});

/** An output the caller asks for; all of them when the request lists none. */
export const V2RequestedOutput = z.object({ name: z.string().max(256), parameters: V2Parameters.optional() });

export const V2InferRequest = z.object({
  /** Echoed in the answer; also a canary's sticky key when the model's canary is sticky by `id`. */
  id: z.string().max(256).optional(),
  parameters: V2Parameters.optional(),
  inputs: z.array(V2InferInput).min(1).max(16),
  outputs: z.array(V2RequestedOutput).max(16).optional(),
});
export type V2InferRequest = z.infer<typeof V2InferRequest>;

/** Extension: present (and only then) when the answer came from ml-proxy's heuristic, not the model. */
export const V2FallbackParameters = z.object({
  fallback: z.literal(true),
  /** Why: `no_trained_model`, `model_unavailable`, `backend_error`, `deadline`. */
  reason: z.string(),
});

/** One output tensor of an answer: ml-proxy's outputs are flat FP32, so `data` is numbers. */
export const V2OutputTensor = V2TensorMetadata.extend({ data: z.array(z.number()) });

export const V2InferResponse = z.object({
  model_name: z.string(),
  /** The version that answered (`heuristic` for a fallback answer). */
  model_version: z.string(),
  id: z.string().optional(),
  parameters: V2FallbackParameters.optional(),
  outputs: z.array(V2OutputTensor),
});
export type V2InferResponse = z.infer<typeof V2InferResponse>;
