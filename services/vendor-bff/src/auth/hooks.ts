import { RETRY_AFTER_HEADER } from '@eta/contracts';
import { addLogBindings, AppError } from '@eta/service-kit';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AuthFailure, AuthUnavailable, bearerToken, type Principal, type TokenVerifier } from './jwt.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { ServiceAuthenticator } from './service-credential.ts';

/**
 * Fastify hooks that put authentication in front of a route group (onRequest: before the body is read or
 * validated, so an unauthenticated caller learns nothing about the input rules and costs no parsing).
 */

export type AdminPrincipal = Extract<Principal, { kind: 'owner' | 'operator' }>;

const principals = new WeakMap<FastifyRequest, AdminPrincipal>();

/** The admin caller of a request that passed `adminAuthHook`. */
export function adminPrincipal(request: FastifyRequest): AdminPrincipal {
  const p = principals.get(request);
  // Only reachable if a route was registered outside the authenticated scope: a bug, so a 500.
  if (p === undefined) throw new Error('admin route reached without authentication');
  return p;
}

function unauthenticated(reply: FastifyReply, message = 'missing or invalid bearer token'): AppError {
  reply.header('www-authenticate', 'Bearer');
  return new AppError(401, 'UNAUTHENTICATED', message);
}

function toHttpError(err: unknown, reply: FastifyReply, request: FastifyRequest): unknown {
  if (err instanceof AuthFailure) {
    // The reason (expired, bad signature, wrong audience...) helps whoever debugs a client; it stays in
    // the log because telling a caller why a forged token failed helps the forger.
    request.log.info({ reason: err.reason }, 'authentication failed');
    return unauthenticated(reply);
  }
  if (err instanceof AuthUnavailable) {
    request.log.warn({ err }, 'token keys unavailable');
    return new AppError(503, 'UPSTREAM_ERROR', 'token keys unavailable; retry shortly');
  }
  return err;
}

/** 429 RATE_LIMITED with Retry-After once `subject` has used up its bucket. */
function limit(limiter: RateLimiter, subject: string, reply: FastifyReply): void {
  const decision = limiter.take(subject);
  if (!decision.allowed) {
    reply.header(RETRY_AFTER_HEADER, String(decision.retryAfterSeconds));
    throw new AppError(429, 'RATE_LIMITED', `too many requests; retry after ${decision.retryAfterSeconds} s`);
  }
}

export interface AdminAuthOptions {
  readonly verifier: TokenVerifier;
  readonly limiter: RateLimiter;
}

/** Store owners and operators only; then the per-subject rate limit. */
export function adminAuthHook(opts: AdminAuthOptions): onRequestAsyncHookHandler {
  return async function adminAuth(request, reply) {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw unauthenticated(reply);
    let principal: Principal;
    try {
      principal = await opts.verifier.verify(token);
    } catch (err) {
      throw toHttpError(err, reply, request);
    }
    if (principal.kind === 'service') {
      throw new AppError(403, 'FORBIDDEN', 'a service credential cannot use the store-owner admin API');
    }
    request.log = addLogBindings(request.log, { subject: principal.subject });
    limit(opts.limiter, principal.subject, reply);
    principals.set(request, principal);
  };
}

/**
 * The estimate API: a service credential, and the caller's name in every log line of the request; then,
 * when a limiter is given (SERVICE_RATE_LIMIT_PER_SECOND), the rate limit per calling service.
 */
export function serviceAuthHook(
  authenticate: ServiceAuthenticator,
  limiter?: RateLimiter,
): onRequestAsyncHookHandler {
  return async function serviceAuth(request, reply) {
    let caller: Awaited<ReturnType<ServiceAuthenticator>>;
    try {
      caller = await authenticate(request.headers);
    } catch (err) {
      throw toHttpError(err, reply, request);
    }
    request.log = addLogBindings(request.log, { caller: caller.subject, callerVia: caller.via });
    if (limiter !== undefined) limit(limiter, caller.subject, reply);
  };
}
