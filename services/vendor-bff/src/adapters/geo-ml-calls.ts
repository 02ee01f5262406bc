/** What the Geo and ML proxy clients share: how a failed call is named for the fallback ladder. */
import { UpstreamError } from '@eta/service-kit';
import type { FailureKind } from '../domain/fallback.ts';

/**
 * UpstreamError kinds to ladder kinds. A 4xx is `rejected`: the dependency is up and refused what we sent,
 * which must not open its breaker; a 5xx is `status` and does. Anything else is our own bug and is
 * rethrown (undefined), never hidden behind a fallback.
 */
export function classifyUpstream(err: unknown): FailureKind | undefined {
  if (!(err instanceof UpstreamError)) return undefined;
  if (err.kind === 'status') return (err.statusCode ?? 500) >= 500 ? 'status' : 'rejected';
  return err.kind;
}
