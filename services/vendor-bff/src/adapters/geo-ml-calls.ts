/**
 * What the Geo and ML proxy clients share: the BFF's settings for service-kit's dependency() (breaker,
 * minimum budget, the one connect retry) and the failure every port throws, the domain's DependencyFailure.
 */
import {
  dependency,
  type Dependency,
  type DependencyBreakerOptions,
  type DependencyMetrics,
  type HttpClientOptions,
} from '@eta/service-kit';
import type { Config } from '../config.ts';
import { DependencyFailure, type FailureKind } from '../domain/fallback.ts';

export interface BffDependencyOptions {
  readonly name: string;
  readonly http: Omit<HttpClientOptions, 'name'>;
  readonly metrics: DependencyMetrics;
  readonly perOperation?: DependencyBreakerOptions['perOperation'];
  readonly onBreakerChange?: DependencyBreakerOptions['onStateChange'];
  /**
   * The dependency's cheap health call, which finds out in the background that an open breaker's
   * dependency is back (service-kit's breaker), so no estimate is answered degraded just to find out.
   */
  readonly probe?: DependencyBreakerOptions['probe'];
}

export function bffDependency(config: Config, opts: BffDependencyOptions): Dependency<FailureKind> {
  return dependency<FailureKind>({
    name: opts.name,
    http: opts.http,
    breaker: {
      failureThreshold: config.BREAKER_FAILURES,
      resetAfterMs: config.BREAKER_RESET_MS,
      ...(opts.perOperation ? { perOperation: opts.perOperation } : {}),
      ...(opts.onBreakerChange ? { onStateChange: opts.onBreakerChange } : {}),
      ...(opts.probe ? { probe: opts.probe } : {}),
    },
    minBudgetMs: config.DEPENDENCY_MIN_BUDGET_MS,
    retryConnect: config.DEPENDENCY_RETRY,
    failure: DependencyFailure,
    metrics: opts.metrics,
  });
}
