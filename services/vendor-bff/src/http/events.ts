/**
 * `POST /v1/events/orders` (contracts: ORDER_EVENTS_ROUTE): order events over HTTP for an ordering system
 * that does not write to Kafka itself, and for the replay. 202 only once the broker has every event; one
 * invalid event refuses the request (400, nothing published); a broker that did not take them in time is
 * a 503 with Retry-After, and sending the same events again is safe (the consumers are idempotent by
 * event id).
 */
import { ErrorBody, ORDER_EVENTS_ROUTE, OrderEventsRequest, OrderEventsResponse } from '@eta/contracts';
import { AppError, type ServiceApp } from '@eta/service-kit';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { OrderIngest } from '../adapters/events/order-ingest.ts';
import type { SecurityRequirements } from './openapi.ts';

export interface OrderEventRouteDeps {
  readonly ingest: OrderIngest;
  readonly authenticate: onRequestAsyncHookHandler;
  readonly security: SecurityRequirements;
}

/** Seconds a client waits before sending refused events again. */
const RETRY_AFTER_SECONDS = 1;

export function registerOrderEventRoutes(app: ServiceApp, deps: OrderEventRouteDeps): void {
  app.post(
    ORDER_EVENTS_ROUTE,
    {
      onRequest: deps.authenticate,
      schema: {
        summary:
          'Order lifecycle events (created ... delivered) to the `orders` topic; 202 once the broker has them',
        security: deps.security,
        body: OrderEventsRequest,
        response: {
          202: OrderEventsResponse,
          400: ErrorBody,
          401: ErrorBody,
          413: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { events } = request.body;
      try {
        await deps.ingest.publish(events);
      } catch (err) {
        request.log.warn({ err, events: events.length }, 'order events: the broker did not take them');
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        throw new AppError(
          503,
          'UPSTREAM_ERROR',
          'the event broker did not take the events in time; send them again (repeats are counted once)',
        );
      }
      return reply.code(202).send({ accepted: events.length });
    },
  );
}
