/**
 * The environment test files give a vendor-bff: the keys every one of them sets the same way, so that a
 * test file states only what it is about (its ROLE, its service token, its issuer, its dependencies).
 */

/**
 * Both event-loop load-shedding thresholds off (MAX_EVENT_LOOP_DELAY_MS, MAX_QUEUE_MS). They measure how
 * busy the machine is, and on one running other test files a shed request (503 OVERLOADED) would say
 * nothing about what a test checks. MAX_IN_FLIGHT, a count of the process's own requests, keeps its
 * default; admission control has its own tests. For processes too (spawnService's env).
 */
export const NO_EVENT_LOOP_SHEDDING = { MAX_EVENT_LOOP_DELAY_MS: '0', MAX_QUEUE_MS: '0' } as const;

/**
 * Deadlines far above any answer's time, for tests against the real Geo and ML proxy: on a busy CI machine
 * a slow answer must not turn into a degraded one, or a breaker failure (one late answer opens a breaker
 * with BREAKER_FAILURES=1). A test of deadlines sets its own.
 */
export const GENEROUS_TIMEOUTS = {
  REQUEST_TIMEOUT_MS: '30000',
  ESTIMATE_BUDGET_MS: '10000',
  GEO_TIMEOUT_MS: '10000',
  ML_TIMEOUT_MS: '10000',
} as const;

/**
 * The environment of a vendor-bff built in this process (buildApp, then inject): no logs and
 * NO_EVENT_LOOP_SHEDDING, under `overrides`. A key given as undefined is left out (parseEnv then applies
 * its default). Not for spawnService, where an undefined key must stay to remove an inherited one.
 */
export function appEnv(overrides: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const env: Record<string, string | undefined> = {
    LOG_LEVEL: 'silent',
    ...NO_EVENT_LOOP_SHEDDING,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * appEnv for a vendor-bff whose Geo and ML proxy are `deadUrl`, a port nothing listens on: every estimate
 * answers from the ladder's floor (manual times or the fallback), which is all a test of routing,
 * validation or authorization needs. The integration tests run the real Geo and ML proxy.
 */
export function offlineAppEnv(
  deadUrl: string,
  overrides: Readonly<Record<string, string | undefined>> = {},
): Record<string, string> {
  return appEnv({ GEO_URL: deadUrl, ML_PROXY_URL: deadUrl, ...overrides });
}
