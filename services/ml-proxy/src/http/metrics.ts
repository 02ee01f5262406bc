import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type InferenceObserver } from '../domain/inference.ts';
import { type ModelRegistry, type RegistryEvents } from '../domain/registry.ts';

/**
 * ml-proxy's own metrics. Backend time is measured around the backend call only (HTTP time per route is
 * the kit's http_request_duration_seconds), so a slow model and a slow proxy can be told apart.
 */
export const METRICS = {
  inferenceDuration: 'ml_proxy_inference_duration_seconds',
  inferenceRows: 'ml_proxy_inference_rows_total',
  fallbacks: 'ml_proxy_fallbacks_total',
  shadowComparisons: 'ml_proxy_shadow_comparisons_total',
  shadowDifferences: 'ml_proxy_shadow_differences_total',
  shadowAbsError: 'ml_proxy_shadow_abs_error',
  shadowErrors: 'ml_proxy_shadow_errors_total',
  reloads: 'ml_proxy_model_reloads_total',
  versionsLoaded: 'ml_proxy_model_versions_loaded',
  releaseInfo: 'ml_proxy_release_info',
  releaseRefused: 'ml_proxy_release_refused',
  releaseRefusals: 'ml_proxy_release_refusals_total',
} as const;

export function createMetrics(
  registry: Registry,
  models: () => ModelRegistry | undefined,
  log: { warn(obj: object, msg: string): void },
): { observer: InferenceObserver; events: Omit<RegistryEvents, 'versionsChanged'> } {
  const duration = new Histogram({
    name: METRICS.inferenceDuration,
    help: 'Backend call duration per model and version, by outcome (ok, error, deadline).',
    labelNames: ['model', 'version', 'outcome'] as const,
    // In-process calls take tens of microseconds; remote ones milliseconds.
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const rows = new Counter({
    name: METRICS.inferenceRows,
    help: 'Rows inferred per model and version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const fallbacks = new Counter({
    name: METRICS.fallbacks,
    help: 'Requests answered by the heuristic, by reason (no_trained_model, model_unavailable, backend_error, deadline).',
    labelNames: ['model', 'reason'] as const,
    registers: [registry],
  });
  const comparisons = new Counter({
    name: METRICS.shadowComparisons,
    help: 'Predictions (rows) mirrored to a shadow version and compared; a call of n rows counts n.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const differences = new Counter({
    name: METRICS.shadowDifferences,
    help: 'Output values where the shadow version differs from the served one by more than the tolerance.',
    labelNames: ['model', 'version', 'output'] as const,
    registers: [registry],
  });
  const absError = new Histogram({
    name: METRICS.shadowAbsError,
    help: 'Largest absolute difference per mirrored request between shadow and served output (model units).',
    labelNames: ['model', 'version', 'output'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  const shadowErrors = new Counter({
    name: METRICS.shadowErrors,
    help: 'Mirrored calls that failed or missed the deadline on the shadow version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const reloads = new Counter({
    name: METRICS.reloads,
    help: 'Model version loads, by outcome: success, or failure (refused: corrupt, wrong golden outputs, bad metadata).',
    labelNames: ['model', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: METRICS.versionsLoaded,
    help: 'Versions loaded and serving per model.',
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      const current = models();
      if (!current) return;
      for (const slot of current.slots) this.set({ model: slot.name }, slot.versions.size);
    },
  });

  new Gauge({
    name: METRICS.releaseInfo,
    help:
      'Always 1, per model: the version unpinned calls get (serving; "heuristic" when none is loaded), where that ' +
      'was decided (source: settings = MODEL_SETTINGS defaultVersion, release = release.json, newest) and ' +
      "release.json's candidate (empty when none).",
    labelNames: ['model', 'serving', 'candidate', 'source'] as const,
    registers: [registry],
    collect() {
      const current = models();
      if (!current) return;
      // Label values change with a promotion: only the current set is exposed.
      this.reset();
      for (const slot of current.slots) {
        this.set(
          {
            model: slot.name,
            serving: slot.stable()?.version ?? 'heuristic',
            candidate: slot.routing.candidate ?? '',
            source: slot.servingSource(),
          },
          1,
        );
      }
    },
  });
  new Gauge({
    name: METRICS.releaseRefused,
    help: "1 while a model's release.json is refused (malformed, unreadable or gone) and the last good one applies.",
    labelNames: ['model'] as const,
    registers: [registry],
    collect() {
      const current = models();
      if (!current) return;
      for (const slot of current.slots) this.set({ model: slot.name }, slot.releaseRefused ? 1 : 0);
    },
  });
  const releaseRefusals = new Counter({
    name: METRICS.releaseRefusals,
    help: 'release.json contents refused, per model (each distinct refused content once).',
    labelNames: ['model'] as const,
    registers: [registry],
  });

  return {
    observer: {
      inference(model, version, seconds, n, outcome) {
        duration.observe({ model, version, outcome }, seconds);
        if (outcome === 'ok') rows.inc({ model, version }, n);
      },
      fallback(model, reason) {
        fallbacks.inc({ model, reason });
      },
      backendError(model, version, err) {
        log.warn({ err, model, version }, 'model backend call failed');
      },
      shadow(model, version, results) {
        // Per row, as the differences are: a coalesced call of 8 precise rows or a rough call of 50 is as
        // many predictions compared, which the promotion rule's minimum counts.
        comparisons.inc(
          { model, version },
          results.reduce((n, r) => Math.max(n, r.values), 0),
        );
        for (const r of results) {
          if (r.differences > 0) differences.inc({ model, version, output: r.output }, r.differences);
          absError.observe({ model, version, output: r.output }, r.maxAbsError);
        }
      },
      shadowError(model, version) {
        shadowErrors.inc({ model, version });
      },
    },
    events: {
      reload(model, _version, outcome) {
        reloads.inc({ model, outcome });
      },
      releaseRefused(model) {
        releaseRefusals.inc({ model });
      },
    },
  };
}
