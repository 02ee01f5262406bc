/**
 * The estimate path's metrics, on the service's registry: estimates by role/kind/source/degraded, and
 * every dependency call by outcome (service-kit's dependency metrics under the BFF's names). Names come
 * from @eta/contracts so dashboards, alerts and the benchmarks match.
 */
import {
  BFF_BREAKER_STATE,
  BFF_COALESCED_REQUESTS,
  BFF_DEPENDENCY_DURATION_SECONDS,
  BFF_DEPENDENCY_FAILURES_TOTAL,
  BFF_ESTIMATES_TOTAL,
  type EstimateSource,
} from '@eta/contracts';
import { createDependencyMetrics, type DependencyMetrics } from '@eta/service-kit';
import { Counter, type Registry } from 'prom-client';

export interface EstimateMetrics {
  /** Hand to the Geo and ML proxy clients: their calls, coalesced batches and breakers. */
  readonly dependencies: DependencyMetrics;
  countEstimate(kind: 'precise' | 'rough', source: EstimateSource, degraded: boolean): void;
}

export function createEstimateMetrics(registry: Registry, role: string): EstimateMetrics {
  const estimates = new Counter({
    name: BFF_ESTIMATES_TOTAL,
    help: 'Estimates answered, by process role, kind (precise, rough), source and whether degraded.',
    labelNames: ['role', 'kind', 'source', 'degraded'] as const,
    registers: [registry],
  });
  const dependencies = createDependencyMetrics(registry, {
    names: {
      duration: BFF_DEPENDENCY_DURATION_SECONDS,
      failures: BFF_DEPENDENCY_FAILURES_TOTAL,
      breakerState: BFF_BREAKER_STATE,
      coalesced: BFF_COALESCED_REQUESTS,
    },
    // Calls never sent (open breaker, no budget, no checked model layout) are failures but not latency
    // samples.
    untimed: ['breaker-open', 'no-budget', 'layout'],
  });

  return {
    dependencies,
    countEstimate(kind, source, degraded) {
      estimates.inc({ role, kind, source, degraded: String(degraded) });
    },
  };
}
