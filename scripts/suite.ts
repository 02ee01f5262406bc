/**
 * What the README's run command starts, in one place: the services, their ports and the environment each
 * gets. scripts/dev.ts runs it; the benchmarks (loadtest/lib/suite.ts) start the very same configuration,
 * so what they measure is what a user runs. Overrides come only from the caller's own environment.
 */

// The Node flags every service runs with (NODE_OPTIONS) are @eta/testing's SERVICE_NODE_OPTIONS, which
// its spawnService applies for the run command and the benchmarks alike.

export type SuiteService = 'geo' | 'ml-proxy' | 'vendor-bff';

export interface SuitePorts {
  readonly geo: number;
  readonly 'ml-proxy': number;
  readonly 'vendor-bff': number;
}

/** Started in this order; a service starts once those it calls are ready. */
export const SUITE_ORDER: readonly SuiteService[] = ['geo', 'ml-proxy', 'vendor-bff'];

export const SUITE_AFTER: Readonly<Record<SuiteService, readonly SuiteService[]>> = {
  geo: [],
  'ml-proxy': [],
  'vendor-bff': ['geo', 'ml-proxy'],
};

/**
 * The keys the run command sets for a service, over the service's own defaults (its config.ts). The BFF
 * serves every role and trusts the committed development key, which is what `pnpm dev:token` signs with.
 */
export function runCommandEnv(name: SuiteService, ports: SuitePorts): Record<string, string> {
  const common = { PORT: String(ports[name]), SHUTDOWN_DELAY_MS: '0' };
  if (name !== 'vendor-bff') return common;
  return {
    ...common,
    ROLE: 'all',
    GEO_URL: `http://127.0.0.1:${ports.geo}`,
    ML_PROXY_URL: `http://127.0.0.1:${ports['ml-proxy']}`,
    AUTH_DEV_KEYS: 'true',
  };
}
