import {
  V2ErrorBody,
  V2Feature,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadata,
  V2ModelParameters,
  V2ModelPath,
  V2ModelReady,
  V2ServerLive,
  V2ServerMetadata,
  V2ServerReady,
  V2VersionPath,
} from '@eta/contracts';
import { type ErrorFormat, type ServiceApp, setErrorFormat } from '@eta/service-kit';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InferenceError, type InferenceErrorKind } from '../domain/errors.ts';
import { HEURISTIC_VERSION } from '../domain/heuristic.ts';
import { type InferenceService } from '../domain/inference.ts';
import { type ModelSignature } from '../domain/model.ts';
import { type ModelRegistry, type ModelSlot } from '../domain/registry.ts';
import {
  BINARY_TENSOR_DATA,
  binaryOutputChoice,
  checkMediaType,
  encodeBinaryAnswer,
  INFERENCE_HEADER,
  parseV2Body,
} from './v2-body.ts';

/**
 * The Open Inference Protocol (KServe V2) REST surface. Encapsulated under /v2 with its own error format
 * (the kit's setErrorFormat), because V2 clients (KServe, Triton and MLServer SDKs) read errors as
 * `{ "error": "..." }`, not the suite's `{ code, message }`; the suite's stable code rides along as
 * `code`. Every error the kit answers under /v2 takes this form too: validation, 404 and 405, 413/414/415,
 * load shedding and admission refusals, deadlines, shutdown and 500s. Also its own body parser (http/v2-body.ts): JSON with or without a content type, NaN as
 * tritonclient writes it, and the binary tensor data extension.
 */
export interface V2Options {
  readonly inference: InferenceService;
  readonly registry: ModelRegistry;
  readonly serverName: string;
  readonly serverVersion: string;
  /** Largest accepted infer body; sized from MAX_BATCH_ROWS. */
  readonly inferBodyLimit: number;
}

/** The kit's zod type provider, named without depending on fastify-type-provider-zod directly. */
type KitTypeProvider =
  ServiceApp extends FastifyInstance<infer _S, infer _Req, infer _Rep, infer _L, infer P> ? P : never;

const STATUS: Record<InferenceErrorKind, number> = {
  bad_request: 400,
  not_found: 404,
  unavailable: 503,
  deadline: 504,
};

/** Every V2 error answer: the protocol's `error` message and the suite's stable `code`. */
const V2Error = V2ErrorBody.extend({ code: z.string() });

const errors = { 400: V2Error, 404: V2Error, 503: V2Error, 504: V2Error };

/** The suite's error as a V2 error: the message as `error`, the stable code as `code`. */
export const V2_ERROR_FORMAT: ErrorFormat = {
  schema: V2Error,
  format: (body) => ({ error: body.message, code: body.code }),
};

/**
 * Model metadata as served: each feature of `parameters.features` also carries `range` ([min, max],
 * inclusive) where the model's metadata declares one; values outside it are refused with
 * INPUT_OUT_OF_RANGE. The range is an array of exactly two numbers rather than a zod tuple: a tuple is
 * `prefixItems` in the OpenAPI document, which JSON Schema 2020-12 allows but OpenAPI tooling often does
 * not read (schemathesis 4.32 rewrote it into an invalid schema and stopped checking the answer).
 */
/**
 * What serves now, in the metadata and ready answers of a model (V2 leaves `parameters` to the server):
 * `serving` is the version unpinned, non-canary calls get ("heuristic" when none is loaded), `servingFrom`
 * where that was decided (MODEL_SETTINGS, release.json, or the newest version), `candidate` release.json's
 * candidate and `shadow` the version mirrored, when there are.
 */
const V2Release = {
  serving: z.string(),
  servingFrom: z.enum(['settings', 'release', 'newest']),
  candidate: z.string().optional(),
  shadow: z.string().optional(),
};

const V2ModelMetadataServed = V2ModelMetadata.extend({
  parameters: V2ModelParameters.extend({
    features: z.array(V2Feature.extend({ range: z.array(z.number()).length(2).optional() })),
    ...V2Release,
  }),
});

const V2ModelReadyServed = V2ModelReady.extend(V2Release);

/**
 * The OpenAPI document's example of an inference: one row of the reference eta-rough model's seven
 * features (the first case of its golden.json). Besides showing a reader a request that is answered, it
 * is what schemathesis's examples phase sends, so the fuzz step checks a real answer against the 200
 * schema (its generated tensors fit no model's signature).
 */
const INFER_EXAMPLE = {
  inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 7], data: [2.5, 12, 2, 2, 1, 0, 0] }],
};
const InferModelPath = V2ModelPath.extend({ name: V2ModelPath.shape.name.meta({ examples: ['eta-rough'] }) });
const InferVersionPath = V2VersionPath.extend({ name: InferModelPath.shape.name });

export async function registerV2(app: ServiceApp, opts: V2Options): Promise<void> {
  await app.register(
    async (instance) => {
      const v2 = instance.withTypeProvider<KitTypeProvider>();
      // First, so every route below documents and answers its errors as V2 errors (and 404/405 too).
      setErrorFormat(v2, V2_ERROR_FORMAT);
      v2.setErrorHandler((thrown, request, reply) => {
        if (thrown instanceof InferenceError) {
          request.log.info({ kind: thrown.kind, code: thrown.code }, thrown.message);
          return reply.code(STATUS[thrown.kind]).send({ error: thrown.message, code: thrown.code });
        }
        // Schema, body and size errors, load shedding and shutdown (AppError) keep their status and code:
        // the kit's handler answers them, in this scope's format.
        throw thrown;
      });

      // One parser for every body under /v2, whatever its content type (http/v2-body.ts); the route's
      // bodyLimit still bounds what is read.
      v2.removeAllContentTypeParsers();
      v2.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
        try {
          checkMediaType(request.headers['content-type'], request.headers['content-encoding']);
          done(null, parseV2Body(body as Buffer, request.headers[INFERENCE_HEADER.toLowerCase()]));
        } catch (err) {
          done(err as Error, undefined);
        }
      });

      v2.get(
        '/',
        {
          schema: {
            response: { 200: V2ServerMetadata },
          },
        },
        async () => ({
          name: opts.serverName,
          version: opts.serverVersion,
          extensions: [BINARY_TENSOR_DATA],
        }),
      );

      v2.get('/health/live', { schema: { response: { 200: V2ServerLive } } }, async () => ({
        live: true,
      }));

      v2.get(
        '/health/ready',
        { schema: { response: { 200: V2ServerReady, 503: V2Error } } },
        async (_request, reply) => {
          const pending = opts.registry.notReady();
          if (pending.length > 0) {
            return reply
              .code(503)
              .send({ error: `models not ready: ${pending.join(', ')}`, code: 'UNAVAILABLE' });
          }
          return { ready: true };
        },
      );

      const metadata = (name: string, version: string | undefined) => {
        const { slot, loaded } = opts.inference.describe(name, version);
        if (!slot.initialized) throw new InferenceError('unavailable', `model '${name}' is still loading`);
        const signature = loaded?.signature ?? slot.lastSignature;
        const versions = slot.versionIds.length > 0 ? [...slot.versionIds] : [HEURISTIC_VERSION];
        const described = describeSignature(signature);
        return {
          name,
          versions: version === undefined ? versions : [version],
          platform: loaded?.platform ?? 'heuristic',
          ...described,
          parameters: { ...described.parameters, ...releaseOf(slot) },
        };
      };

      v2.get(
        '/models/:name',
        { schema: { params: V2ModelPath, response: { 200: V2ModelMetadataServed, ...errors } } },
        async (request) => metadata(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version',
        { schema: { params: V2VersionPath, response: { 200: V2ModelMetadataServed, ...errors } } },
        async (request) => metadata(request.params.name, request.params.version),
      );

      const ready = (name: string, version: string | undefined) => {
        const { slot } = opts.inference.describe(name, version);
        if (!slot.ready) throw new InferenceError('unavailable', `model '${name}' is not ready`);
        return { name, ready: true, ...releaseOf(slot) };
      };
      v2.get(
        '/models/:name/ready',
        { schema: { params: V2ModelPath, response: { 200: V2ModelReadyServed, ...errors } } },
        async (request) => ready(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version/ready',
        { schema: { params: V2VersionPath, response: { 200: V2ModelReadyServed, ...errors } } },
        async (request) => ready(request.params.name, request.params.version),
      );

      const infer = async (
        request: {
          body: V2InferRequest;
          headers: FastifyRequest['headers'];
          deadline: FastifyRequest['deadline'];
          id: string;
        },
        reply: FastifyReply,
        name: string,
        version: string | undefined,
      ) => {
        const body = request.body;
        const binary = binaryOutputChoice(body);
        const stickyBy = opts.inference.canary(name)?.stickyBy;
        let stickyKey: string | undefined;
        if (stickyBy === 'id') stickyKey = body.id;
        else if (stickyBy !== undefined) {
          const header = request.headers[stickyBy.slice('header:'.length)];
          stickyKey = typeof header === 'string' ? header : undefined;
        }
        const answer = await opts.inference.infer(name, version, body, {
          stickyKey,
          budgetMs: request.deadline.remainingMs(),
          requestId: request.id,
        });
        const encoded = encodeBinaryAnswer(answer, binary);
        if (encoded === undefined) return answer;
        // A Buffer is sent as it is (the 200 schema describes the JSON form only).
        return reply
          .header(INFERENCE_HEADER, encoded.headerLength)
          .type('application/octet-stream')
          .send(encoded.body);
      };
      const inferSchema = {
        description:
          'The body is JSON (application/json, or no Content-Type as tritonclient sends it), or the binary ' +
          `tensor data extension: ${INFERENCE_HEADER} bytes of JSON inference header, then each input's raw ` +
          'little-endian bytes (parameters.binary_data_size). NaN, Infinity and -Infinity are read as numbers.',
        body: V2InferRequest.meta({ examples: [INFER_EXAMPLE] }),
        response: {
          200: {
            description:
              'The outputs as JSON; or, when an output asks for parameters.binary_data (or the request for ' +
              `binary_data_output), ${INFERENCE_HEADER} bytes of JSON header followed by the raw outputs.`,
            content: {
              'application/json': { schema: V2InferResponse },
              'application/octet-stream': { schema: z.string() },
            },
          },
          ...errors,
        },
      };
      v2.post(
        '/models/:name/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: InferModelPath, ...inferSchema } },
        async (request, reply) => infer(request, reply, request.params.name, undefined),
      );
      v2.post(
        '/models/:name/versions/:version/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: InferVersionPath, ...inferSchema } },
        async (request, reply) => infer(request, reply, request.params.name, request.params.version),
      );
    },
    { prefix: '/v2' },
  );
}

function releaseOf(slot: ModelSlot) {
  const shadow = slot.routing.shadow;
  return {
    serving: slot.stable()?.version ?? HEURISTIC_VERSION,
    servingFrom: slot.servingSource(),
    ...(slot.routing.candidate === undefined ? {} : { candidate: slot.routing.candidate }),
    ...(shadow === undefined || shadow.percent <= 0 ? {} : { shadow: shadow.version }),
  };
}

function describeSignature(signature: ModelSignature) {
  return {
    inputs: [
      { name: signature.input.name, datatype: signature.input.datatype, shape: [...signature.input.shape] },
    ],
    outputs: signature.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape] })),
    parameters: {
      features: signature.features.map((f) => ({
        name: f.name,
        nullable: f.nullable,
        unit: f.unit,
        ...(f.range ? { range: [f.range[0], f.range[1]] as [number, number] } : {}),
      })),
    },
  };
}
