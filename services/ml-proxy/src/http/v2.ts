import { type ServiceApp, toErrorAnswer } from '@eta/service-kit';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InferenceError, type InferenceErrorKind } from '../domain/errors.ts';
import { HEURISTIC_VERSION } from '../domain/heuristic.ts';
import { type InferenceService } from '../domain/inference.ts';
import { type ModelSignature } from '../domain/model.ts';
import { type ModelRegistry } from '../domain/registry.ts';

/**
 * The Open Inference Protocol (KServe V2) REST surface. Encapsulated under /v2 with its own error and
 * not-found handlers, because V2 clients (KServe, Triton and MLServer SDKs) read errors as
 * `{ "error": "..." }`, not the suite's `{ code, message }`.
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

const ErrorAnswer = z.object({ error: z.string() });

const TensorMeta = z.object({
  name: z.string(),
  datatype: z.string(),
  shape: z.array(z.number().int()),
});

const ModelMetadata = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(TensorMeta),
  outputs: z.array(TensorMeta),
  /** Extension: the feature columns in order, so a caller (or an upstream ml-proxy) can build rows. */
  parameters: z.object({
    features: z.array(z.object({ name: z.string(), nullable: z.boolean(), unit: z.string().nullable() })),
  }),
});

const Parameters = z.record(z.string(), z.unknown());

const InferBody = z.object({
  id: z.string().max(256).optional(),
  parameters: Parameters.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().max(256),
        shape: z.array(z.number().int()).max(8),
        datatype: z.string().max(16),
        parameters: Parameters.optional(),
        data: z.array(z.unknown()),
      }),
    )
    .min(1)
    .max(16),
  outputs: z
    .array(z.object({ name: z.string().max(256), parameters: Parameters.optional() }))
    .max(16)
    .optional(),
});

const InferAnswer = z.object({
  model_name: z.string(),
  model_version: z.string(),
  id: z.string().optional(),
  parameters: z.object({ fallback: z.literal(true), reason: z.string() }).optional(),
  outputs: z.array(
    z.object({
      name: z.string(),
      datatype: z.string(),
      shape: z.array(z.number().int()),
      data: z.array(z.number()),
    }),
  ),
});

const ModelParams = z.object({ name: z.string().max(256) });
const VersionParams = ModelParams.extend({ version: z.string().max(64) });

const errors = { 400: ErrorAnswer, 404: ErrorAnswer, 503: ErrorAnswer, 504: ErrorAnswer };

export async function registerV2(app: ServiceApp, opts: V2Options): Promise<void> {
  await app.register(
    async (instance) => {
      const v2 = instance.withTypeProvider<KitTypeProvider>();
      v2.setErrorHandler((thrown, request, reply) => {
        if (thrown instanceof InferenceError) {
          request.log.info({ kind: thrown.kind }, thrown.message);
          return reply.code(STATUS[thrown.kind]).send({ error: thrown.message });
        }
        // Schema, JSON and size errors, load shedding and shutdown (AppError) keep their status.
        const answer = toErrorAnswer(thrown);
        if (answer.unexpected) request.log.error({ err: thrown }, 'request failed');
        else request.log.info({ statusCode: answer.statusCode }, answer.body.message);
        return reply.code(answer.statusCode).send({ error: answer.body.message });
      });
      v2.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
        const path = request.url.split('?')[0]?.slice(0, 200) ?? '';
        return reply.code(404).send({ error: `no route for ${request.method} ${path}` });
      });

      v2.get(
        '/',
        {
          schema: {
            response: {
              200: z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }),
            },
          },
        },
        async () => ({ name: opts.serverName, version: opts.serverVersion, extensions: [] }),
      );

      v2.get(
        '/health/live',
        { schema: { response: { 200: z.object({ live: z.boolean() }) } } },
        async () => ({
          live: true,
        }),
      );

      v2.get(
        '/health/ready',
        { schema: { response: { 200: z.object({ ready: z.boolean() }), 503: ErrorAnswer } } },
        async (_request, reply) => {
          const pending = opts.registry.notReady();
          if (pending.length > 0) {
            return reply.code(503).send({ error: `models not ready: ${pending.join(', ')}` });
          }
          return { ready: true };
        },
      );

      const metadata = (name: string, version: string | undefined) => {
        const { slot, loaded } = opts.inference.describe(name, version);
        if (!slot.initialized) throw new InferenceError('unavailable', `model '${name}' is still loading`);
        const signature = loaded?.signature ?? slot.lastSignature;
        const versions = slot.versionIds.length > 0 ? [...slot.versionIds] : [HEURISTIC_VERSION];
        return {
          name,
          versions: version === undefined ? versions : [version],
          platform: loaded?.platform ?? 'heuristic',
          ...describeSignature(signature),
        };
      };

      v2.get(
        '/models/:name',
        { schema: { params: ModelParams, response: { 200: ModelMetadata, ...errors } } },
        async (request) => metadata(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version',
        { schema: { params: VersionParams, response: { 200: ModelMetadata, ...errors } } },
        async (request) => metadata(request.params.name, request.params.version),
      );

      const ready = (name: string, version: string | undefined) => {
        const { slot } = opts.inference.describe(name, version);
        if (!slot.ready) throw new InferenceError('unavailable', `model '${name}' is not ready`);
        return { name, ready: true };
      };
      const ReadyAnswer = z.object({ name: z.string(), ready: z.boolean() });
      v2.get(
        '/models/:name/ready',
        { schema: { params: ModelParams, response: { 200: ReadyAnswer, ...errors } } },
        async (request) => ready(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version/ready',
        { schema: { params: VersionParams, response: { 200: ReadyAnswer, ...errors } } },
        async (request) => ready(request.params.name, request.params.version),
      );

      const infer = (
        request: {
          body: z.output<typeof InferBody>;
          headers: FastifyRequest['headers'];
          deadline: FastifyRequest['deadline'];
          id: string;
        },
        name: string,
        version: string | undefined,
      ) => {
        const body = request.body;
        const stickyBy = opts.inference.policy(name).canary?.stickyBy;
        let stickyKey: string | undefined;
        if (stickyBy === 'id') stickyKey = body.id;
        else if (stickyBy !== undefined) {
          const header = request.headers[stickyBy.slice('header:'.length)];
          stickyKey = typeof header === 'string' ? header : undefined;
        }
        return opts.inference.infer(name, version, body, {
          stickyKey,
          budgetMs: request.deadline.remainingMs(),
          requestId: request.id,
        });
      };
      const inferSchema = { body: InferBody, response: { 200: InferAnswer, ...errors } };
      v2.post(
        '/models/:name/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: ModelParams, ...inferSchema } },
        async (request) => infer(request, request.params.name, undefined),
      );
      v2.post(
        '/models/:name/versions/:version/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: VersionParams, ...inferSchema } },
        async (request) => infer(request, request.params.name, request.params.version),
      );
    },
    { prefix: '/v2' },
  );
}

function describeSignature(signature: ModelSignature) {
  return {
    inputs: [
      { name: signature.input.name, datatype: signature.input.datatype, shape: [...signature.input.shape] },
    ],
    outputs: signature.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape] })),
    parameters: {
      features: signature.features.map((f) => ({ name: f.name, nullable: f.nullable, unit: f.unit })),
    },
  };
}
