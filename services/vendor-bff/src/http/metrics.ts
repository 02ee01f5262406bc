/**
 * The estimate path's metrics, on the service's registry: estimates by role/kind/source/degraded, and
 * every dependency call by outcome. Names come from @eta/contracts so dashboards and alerts match.
 */
import type { CircuitBreaker } from '@eta/cache';
import {
  BFF_BREAKER_STATE,
  BFF_COALESCED_REQUESTS,
  BFF_DEPENDENCY_DURATION_SECONDS,
  BFF_DEPENDENCY_FAILURES_TOTAL,
  BFF_ESTIMATES_TOTAL,
  type EstimateSource,
} from '@eta/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CallObserver } from '../domain/fallback.ts';

export interface EstimateMetrics {
  readonly observer: CallObserver;
  countEstimate(kind: 'precise' | 'rough', source: EstimateSource, degraded: boolean): void;
  /** One coalesced dependency call and how many requests it carried. */
  countBatch(dependency: string, operation: string, requests: number): void;
  /** Breakers are read when scraped. */
  watchBreaker(dependency: string, breaker: CircuitBreaker): void;
}

const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

export function createEstimateMetrics(registry: Registry, role: string): EstimateMetrics {
  const estimates = new Counter({
    name: BFF_ESTIMATES_TOTAL,
    help: 'Estimates answered, by process role, kind (precise, rough), source and whether degraded.',
    labelNames: ['role', 'kind', 'source', 'degraded'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: BFF_DEPENDENCY_DURATION_SECONDS,
    help: 'Dependency call attempts by dependency, operation and outcome (ok or a failure kind).',
    labelNames: ['dependency', 'operation', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const failures = new Counter({
    name: BFF_DEPENDENCY_FAILURES_TOTAL,
    help: 'Dependency calls that gave no usable answer, by dependency, operation and kind.',
    labelNames: ['dependency', 'operation', 'kind'] as const,
    registers: [registry],
  });
  const batches = new Histogram({
    name: BFF_COALESCED_REQUESTS,
    help: 'Estimate requests per coalesced dependency call, by dependency and operation.',
    labelNames: ['dependency', 'operation'] as const,
    buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64],
    registers: [registry],
  });
  const breakers = new Map<string, CircuitBreaker>();
  new Gauge({
    name: BFF_BREAKER_STATE,
    help: 'Circuit breaker per dependency: 0 closed, 1 half-open, 2 open.',
    labelNames: ['dependency'] as const,
    registers: [registry],
    collect() {
      for (const [dependency, b] of breakers) this.set({ dependency }, BREAKER_VALUE[b.state]);
    },
  });

  return {
    observer: {
      observe(dependency, operation, outcome, seconds) {
        // Calls never sent (open breaker, no budget) are failures but not latency samples.
        if (outcome !== 'breaker-open' && outcome !== 'no-budget' && outcome !== 'layout') {
          duration.observe({ dependency, operation, outcome }, seconds);
        }
        if (outcome !== 'ok') failures.inc({ dependency, operation, kind: outcome });
      },
    },
    countEstimate(kind, source, degraded) {
      estimates.inc({ role, kind, source, degraded: String(degraded) });
    },
    countBatch(dependency, operation, requests) {
      batches.observe({ dependency, operation }, requests);
    },
    watchBreaker(dependency, breaker) {
      breakers.set(dependency, breaker);
    },
  };
}
