/**
 * The benchmarks start every server with @eta/testing's spawnService (the tests and the run command use the
 * same one): a separate Node process, so the load generator never shares an event loop with the code it
 * measures.
 */
export {
  SERVICE_NODE_OPTIONS,
  SERVICE_RUNTIME_ENV,
  spawnService,
  type ExitStatus,
  type SpawnedService,
  type SpawnServiceOptions,
} from '@eta/testing/spawn';
export { freePort } from '@eta/testing/ports';
