import {
  V2FallbackParameters,
  V2Feature,
  type V2InferRequest,
  V2ModelMetadata,
  V2ModelParameters,
  V2OutputTensor,
  V2TensorData,
} from '@eta/contracts';
import { type HttpClient } from '@eta/service-kit';
import { z } from 'zod';
import { type FeatureSpec, type InferenceBackend, type ModelSignature } from '../domain/model.ts';
import { type RemoteModel } from '../domain/registry.ts';

/**
 * A model served by another Open Inference Protocol server (KServe, Triton, MLServer, or another
 * ml-proxy), over the kit's keep-alive client. The upstream's model metadata gives the signature;
 * ml-proxy's own metadata additionally lists features under `parameters.features`, which the heuristic
 * fallback uses to find its columns. Without it, columns are anonymous and null (NaN) is passed through
 * for the upstream to judge.
 */
export interface RemoteModelOptions {
  readonly client: HttpClient;
  /** Model name on the upstream; defaults to ours. */
  readonly upstreamModel: string;
  /** Only this upstream version is exposed when set; otherwise every version the upstream lists. */
  readonly version?: string | undefined;
}

/**
 * Projections of the V2 contract for any upstream, not only an ml-proxy: the protocol leaves `versions`,
 * `platform` and `parameters` to the server, and only an ml-proxy sends the features extension (a column's
 * `nullable` and `unit` are filled in when a server leaves them out). Inputs and outputs must be listed.
 */
const UpstreamFeature = V2Feature.extend({
  nullable: V2Feature.shape.nullable.default(false),
  unit: V2Feature.shape.unit.default(null),
  /** An upstream ml-proxy's declared training range (http/v2.ts), checked here too before the call. */
  range: z.tuple([z.number(), z.number()]).optional(),
});
const ModelMeta = V2ModelMetadata.extend({
  versions: V2ModelMetadata.shape.versions.optional(),
  platform: V2ModelMetadata.shape.platform.default(''),
  inputs: V2ModelMetadata.shape.inputs.min(1),
  outputs: V2ModelMetadata.shape.outputs.min(1),
  parameters: V2ModelParameters.extend({ features: z.array(UpstreamFeature).optional() }).optional(),
});

/**
 * Only what is read: an output's name and data (any V2 tensor data: a foreign server may nest rows; the
 * numbers are checked below), and the fallback flag among whatever parameters the server adds.
 */
const InferAnswer = z.object({
  parameters: V2FallbackParameters.pick({ fallback: true }).partial().loose().optional(),
  outputs: z.array(V2OutputTensor.pick({ name: true }).extend({ data: V2TensorData })),
});

const enc = encodeURIComponent;

export function createRemoteModel(opts: RemoteModelOptions): RemoteModel {
  const { client, upstreamModel } = opts;
  return {
    async describe() {
      const res = await client.request({
        method: 'GET',
        path: `/v2/models/${enc(upstreamModel)}`,
        schema: ModelMeta,
      });
      const meta = res.body;
      const input = meta.inputs[0]!;
      if (meta.inputs.length !== 1)
        throw new Error(`upstream ${upstreamModel} takes ${meta.inputs.length} inputs; one is supported`);
      if (input.datatype !== 'FP32')
        throw new Error(`upstream ${upstreamModel} input is ${input.datatype}, not FP32`);
      const declared = meta.parameters?.features;
      const width = declared?.length ?? input.shape[1];
      if (input.shape.length !== 2 || width === undefined || width < 1) {
        throw new Error(`upstream ${upstreamModel} input shape [${input.shape.join(',')}] is not [-1, F]`);
      }
      const features: FeatureSpec[] =
        declared?.map(({ range, ...f }) => (range === undefined ? f : { ...f, range })) ??
        Array.from({ length: width }, (_, i) => ({ name: `x${i}`, nullable: true, unit: null }));
      const signature: ModelSignature = {
        input: { name: input.name, datatype: 'FP32', shape: [-1, width] },
        features,
        outputs: meta.outputs.map((o) => ({ name: o.name, datatype: 'FP32', shape: [-1] })),
      };
      const listed = meta.versions ?? [];
      const versions = opts.version !== undefined ? [opts.version] : listed.length > 0 ? listed : ['1'];
      return { versions, platform: meta.platform || 'remote', signature };
    },

    backend(version, signature): InferenceBackend {
      const width = signature.features.length;
      const path = `/v2/models/${enc(upstreamModel)}/versions/${enc(version)}/infer`;
      return {
        kind: 'remote',
        async infer(input, rows, outputs, budget) {
          const res = await client.request({
            method: 'POST',
            path,
            // NaN serialises as null, which is how V2-over-JSON servers (and we) spell "unknown".
            body: {
              inputs: [
                {
                  name: signature.input.name,
                  shape: [rows, width],
                  datatype: 'FP32',
                  data: Array.from(input),
                },
              ],
              outputs: outputs.map((name) => ({ name })),
            } satisfies V2InferRequest,
            timeoutMs: Math.max(1, budget.remainingMs()),
            schema: InferAnswer,
          });
          // An upstream ml-proxy marks its own heuristic answers; passing one on as the model's would
          // hide the fallback from our caller, so it counts as a failed call and is answered (and
          // marked) here.
          if (res.body.parameters?.fallback === true) throw new Error('upstream answered from its fallback');
          const result: Record<string, number[]> = {};
          for (const out of res.body.outputs) {
            const flat = out.data.flat(Infinity);
            if (!flat.every((v) => typeof v === 'number'))
              throw new Error(`upstream output ${out.name} is not numeric`);
            result[out.name] = flat as number[];
          }
          return result;
        },
        // The client is shared by the model's versions and closed with the app.
        close: () => Promise.resolve(),
      };
    },
  };
}
