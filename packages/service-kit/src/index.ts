export {
  buildService,
  type BuildServiceOptions,
  type LoadSheddingOptions,
  type RegisteredRoute,
  type ServiceApp,
  type WarmUp,
} from './build-service.ts';
export {
  breakerStateValue,
  createBreaker,
  type BreakerOptions,
  type BreakerState,
  type CircuitBreaker,
} from './breaker.ts';
export {
  createCloseSteps,
  type CloseProgress,
  type CloseStepProgress,
  type CloseStepState,
  type CloseSteps,
} from './close-steps.ts';
export { createCoalescer, type CoalesceOptions, type Coalescer } from './coalesce.ts';
export { Deadline, type DeadlineLike } from './deadline.ts';
export {
  classifyUpstream,
  createDependencyMetrics,
  dependency,
  type CallFailureKind,
  type Dependency,
  type DependencyBreakerOptions,
  type DependencyMetricNames,
  type DependencyMetrics,
  type DependencyMetricsOptions,
  type DependencyObserver,
  type DependencyOptions,
  type FailureClass,
} from './dependency.ts';
export {
  errorFormatOf,
  INTERNAL_MESSAGE,
  setErrorFormat,
  SUITE_ERROR_FORMAT,
  toErrorAnswer,
  type ErrorAnswer,
} from './error-handler.ts';
export { AppError, type ErrorFormat } from './errors.ts';
export { OPENAPI_PATH, type OpenApiOptions } from './openapi.ts';
export { addLogBindings, censorCredentials, createLogger, type LoggerSettings } from './logger.ts';
export type { Readiness, ReadinessCheck, ReadinessReport } from './readiness.ts';
export {
  runOptionsFrom,
  runService,
  runWarmUps,
  type ProcessEvents,
  type RunningService,
  type RunServiceOptions,
  type ServiceRunConfig,
} from './run-service.ts';
export {
  createHttpClient,
  UpstreamError,
  type HttpClient,
  type HttpClientOptions,
  type HttpMethod,
  type HttpRequestOptions,
  type HttpResponse,
  type UpstreamErrorKind,
} from './http-client.ts';
export {
  byLabel,
  histogramBuckets,
  histogramQuantile,
  parseSamples,
  samples,
  sampleValue,
  sumSamples,
  type LabelMatch,
  type Sample,
} from './prom-text.ts';
