export { classifyError, type ErrorKind } from './errors.ts';
export {
  defaultConnections,
  defaultEngine,
  runLoad,
  type Engine,
  type LoadOptions,
  type RequestRecord,
} from './generator.ts';
export { fmtMs, formatSummary, printSummary, type EntryFigures, type LoadResult } from './result.ts';
export { nativeBinary } from './native.ts';
export { median, MicrosHistogram, type LatencyFigures } from './histogram.ts';
export { busyMachineWarning, formatMachineInfo, machineInfo, settle, type MachineInfo } from './machine.ts';
export {
  seededRandom,
  weightedPicker,
  type BuildContext,
  type HttpMethod,
  type MixEntry,
  type RequestSpec,
  type ResponseInfo,
} from './mix.ts';
export { runStandalone, SkipScenario, type ScenarioModule, type ScenarioOptions } from './scenario.ts';
export {
  freePort,
  SERVICE_RUNTIME_ENV,
  spawnService,
  type ExitStatus,
  type SpawnedService,
  type SpawnServiceOptions,
} from './spawn.ts';
export { formatTable, printTable, type Cell } from './table.ts';
export {
  listScenarios,
  runBench,
  SCENARIO_SUFFIX,
  UnknownScenarioError,
  type BenchOptions,
  type BenchReport,
  type ScenarioOutcome,
} from './runner.ts';
