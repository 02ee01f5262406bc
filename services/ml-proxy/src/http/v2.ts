import {
  V2ErrorBody,
  V2InferRequest,
  V2InferResponse,
  V2ModelMetadata,
  V2ModelPath,
  V2ModelReady,
  V2ServerLive,
  V2ServerMetadata,
  V2ServerReady,
  V2VersionPath,
} from '@eta/contracts';
import { type ServiceApp, toErrorAnswer } from '@eta/service-kit';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
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

const errors = { 400: V2ErrorBody, 404: V2ErrorBody, 503: V2ErrorBody, 504: V2ErrorBody };

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
            response: { 200: V2ServerMetadata },
          },
        },
        async () => ({ name: opts.serverName, version: opts.serverVersion, extensions: [] }),
      );

      v2.get('/health/live', { schema: { response: { 200: V2ServerLive } } }, async () => ({
        live: true,
      }));

      v2.get(
        '/health/ready',
        { schema: { response: { 200: V2ServerReady, 503: V2ErrorBody } } },
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
        { schema: { params: V2ModelPath, response: { 200: V2ModelMetadata, ...errors } } },
        async (request) => metadata(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version',
        { schema: { params: V2VersionPath, response: { 200: V2ModelMetadata, ...errors } } },
        async (request) => metadata(request.params.name, request.params.version),
      );

      const ready = (name: string, version: string | undefined) => {
        const { slot } = opts.inference.describe(name, version);
        if (!slot.ready) throw new InferenceError('unavailable', `model '${name}' is not ready`);
        return { name, ready: true };
      };
      v2.get(
        '/models/:name/ready',
        { schema: { params: V2ModelPath, response: { 200: V2ModelReady, ...errors } } },
        async (request) => ready(request.params.name, undefined),
      );
      v2.get(
        '/models/:name/versions/:version/ready',
        { schema: { params: V2VersionPath, response: { 200: V2ModelReady, ...errors } } },
        async (request) => ready(request.params.name, request.params.version),
      );

      const infer = (
        request: {
          body: V2InferRequest;
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
      const inferSchema = { body: V2InferRequest, response: { 200: V2InferResponse, ...errors } };
      v2.post(
        '/models/:name/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: V2ModelPath, ...inferSchema } },
        async (request) => infer(request, request.params.name, undefined),
      );
      v2.post(
        '/models/:name/versions/:version/infer',
        { bodyLimit: opts.inferBodyLimit, schema: { params: V2VersionPath, ...inferSchema } },
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
