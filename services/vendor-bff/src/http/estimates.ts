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
import type { onRequestAsyncHookHandler } from 'fastify';
import type { EstimateService } from '../domain/estimate.ts';
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
      schema: {
        summary: 'The ETA of one store to an exact address (store detail, checkout, tracking)',
        security: deps.security,
        body: PreciseEstimateRequest,
        response: { 200: PreciseEstimateResponse, ...errors },
      },
    },
    async (request) => {
      try {
        const answer = await deps.service.precise(request.body, request.deadline);
        deps.metrics.countEstimate('precise', answer.source, answer.degraded);
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
      schema: {
        summary:
          'ETAs of up to 200 stores to one address (store list, search); unknown ids answered in place',
        security: deps.security,
        body: RoughEstimateRequest,
        response: { 200: RoughEstimateResponse, ...errors },
      },
    },
    async (request) => {
      try {
        const estimates = await deps.service.rough(request.body, request.deadline);
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
