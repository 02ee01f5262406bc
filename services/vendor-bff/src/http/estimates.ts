/**
 * The estimate routes, schema-first: request AND response bodies are @eta/contracts' schemas, so the
 * answer is exactly what the contract promises (a bug shows as a 500 here, never as a wrong body there).
 */
import {
  ErrorBody,
  PreciseEstimateRequest,
  PreciseEstimateResponse,
  RoughEstimateRequest,
  RoughEstimateResponse,
} from '@eta/contracts';
import type { ServiceApp } from '@eta/service-kit';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { EstimateService } from '../domain/estimate.ts';
import type { PredictionLog } from '../domain/predictions.ts';
import { toHttpError } from './errors.ts';
import type { EstimateMetrics } from './metrics.ts';
import type { SecurityRequirements } from './openapi.ts';

export interface EstimateRouteDeps {
  readonly service: EstimateService;
  readonly metrics: EstimateMetrics;
  /** Requires a service credential (auth/hooks.ts serviceAuthHook): 401 UNAUTHENTICATED without one. */
  readonly authenticate: onRequestAsyncHookHandler;
  /** What `authenticate` takes, as the OpenAPI document says it (http/openapi.ts). */
  readonly security: SecurityRequirements;
  /** The prediction log (PREDICTION_LOG): each answer is handed to it once it was sent. */
  readonly predictions?: PredictionLog;
}

/**
 * Answers waiting to be logged until they are sent: the route's onResponse hook runs after the response
 * was written, so logging adds nothing to the answer's latency. Only a 200 is logged: an answer the
 * deadline timer replaced with a 504 was never served (its hook ran before the handler got here, so the
 * entry is never read and goes with the request).
 */
const toLog = new WeakMap<FastifyRequest, () => void>();

async function logWhenSent(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const log = toLog.get(request);
  if (log === undefined) return;
  toLog.delete(request);
  if (reply.statusCode === 200) log();
}

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  404: ErrorBody,
  422: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
  504: ErrorBody,
};

export function registerPreciseRoutes(app: ServiceApp, deps: EstimateRouteDeps): void {
  app.post(
    '/v1/estimates/precise',
    {
      onRequest: deps.authenticate,
      ...(deps.predictions !== undefined ? { onResponse: logWhenSent } : {}),
      schema: {
        summary: 'The ETA of one store to an exact address (store detail, checkout, tracking)',
        security: deps.security,
        body: PreciseEstimateRequest,
        response: { 200: PreciseEstimateResponse, ...errors },
      },
    },
    async (request) => {
      const predictions = deps.predictions;
      try {
        if (predictions === undefined) {
          const answer = await deps.service.precise(request.body, request.deadline);
          deps.metrics.countEstimate('precise', answer.source, answer.degraded);
          return answer;
        }
        const body = request.body;
        const served = await deps.service.preciseServed(body, request.deadline);
        const { answer } = served;
        deps.metrics.countEstimate('precise', answer.source, answer.degraded);
        toLog.set(request, () => predictions.precise(request.id, body.orderId, body.destination, served));
        return answer;
      } catch (err) {
        throw toHttpError(err);
      }
    },
  );
}

export function registerRoughRoutes(app: ServiceApp, deps: EstimateRouteDeps): void {
  app.post(
    '/v1/estimates/rough',
    {
      onRequest: deps.authenticate,
      ...(deps.predictions !== undefined ? { onResponse: logWhenSent } : {}),
      schema: {
        summary:
          'ETAs of up to 200 stores to one address (store list, search); unknown ids answered in place',
        security: deps.security,
        body: RoughEstimateRequest,
        response: { 200: RoughEstimateResponse, ...errors },
      },
    },
    async (request) => {
      const predictions = deps.predictions;
      try {
        const body = request.body;
        let estimates;
        if (predictions === undefined) estimates = await deps.service.rough(body, request.deadline);
        else {
          const served = await deps.service.roughServed(body, request.deadline);
          estimates = served.items;
          toLog.set(request, () => predictions.rough(request.id, body.destination, served));
        }
        for (const e of estimates) {
          if ('source' in e) deps.metrics.countEstimate('rough', e.source, e.degraded);
        }
        return { estimates };
      } catch (err) {
        throw toHttpError(err);
      }
    },
  );
}
