import {
  type AppsV1Api,
  type AutoscalingV2Api,
  type ConfigurationOptions,
  ApiException,
  type ObservableMiddleware,
  Observable,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import type { Plan, Target } from './plan.ts';

export type Outcome =
  | {
      readonly kind: 'hpa' | 'deployment';
      readonly target: Target;
      readonly status: 'unchanged';
      readonly from: number;
    }
  | {
      readonly kind: 'hpa' | 'deployment';
      readonly target: Target;
      readonly status: 'changed';
      readonly from: number;
    }
  | {
      readonly kind: 'hpa' | 'deployment';
      readonly target: Target;
      readonly status: 'failed';
      readonly error: string;
      readonly code?: number;
    };

export interface Apis {
  readonly autoscaling: AutoscalingV2Api;
  readonly apps: AppsV1Api;
}

export interface ApplyOptions {
  /** Deadline of each call to the API server; a hung connection must not hold the Job until its own deadline. */
  readonly requestTimeoutMs: number;
  /** Attempts per call on errors worth retrying (no answer, 429, 5xx). */
  readonly attempts: number;
  readonly log: (outcome: Outcome) => void;
}

/** Per-request options: a merge patch (when patching) and a deadline that aborts the request. */
function callOptions(timeoutMs: number, contentType?: string): ConfigurationOptions {
  // The object-style API runs "observable" middleware (the client's Observable, a thin promise wrapper),
  // although the options type of its methods declares promise-returning hooks; hence the cast below.
  const middleware: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      if (contentType) ctx.setHeaderParam('Content-Type', contentType);
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  return { middleware: [middleware], middlewareMergeStrategy: 'append' } as unknown as ConfigurationOptions;
}

function retryable(err: unknown): boolean {
  if (err instanceof ApiException) return err.code === 429 || err.code >= 500;
  return true; // no answer at all: timeout, reset, refused
}

function describe(err: unknown): { error: string; code?: number } {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    const message =
      typeof body === 'object' && body !== null && typeof body.message === 'string'
        ? body.message
        : String(body ?? err.message);
    return { error: message, code: err.code };
  }
  return { error: err instanceof Error ? err.message : String(err) };
}

async function withRetries<T>(attempts: number, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= attempts || !retryable(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
    }
  }
}

async function applyHpa(apis: Apis, t: Target, opts: ApplyOptions): Promise<Outcome> {
  const read = callOptions(opts.requestTimeoutMs);
  const hpa = await withRetries(opts.attempts, () =>
    apis.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: t.name, namespace: t.namespace }, read),
  );
  const from = hpa.spec?.minReplicas ?? 1;
  const max = hpa.spec?.maxReplicas ?? 0;
  if (t.value > max) {
    // The API server would refuse it too; saying why here spares the operator a validation message.
    return {
      kind: 'hpa',
      target: t,
      status: 'failed',
      error: `minReplicas ${t.value} is above the HPA's maxReplicas ${max}`,
    };
  }
  if (from === t.value) return { kind: 'hpa', target: t, status: 'unchanged', from };
  const patch = callOptions(opts.requestTimeoutMs, PatchStrategy.MergePatch);
  await withRetries(opts.attempts, () =>
    apis.autoscaling.patchNamespacedHorizontalPodAutoscaler(
      {
        name: t.name,
        namespace: t.namespace,
        body: { spec: { minReplicas: t.value } },
        fieldManager: 'eta-prescaler',
      },
      patch,
    ),
  );
  return { kind: 'hpa', target: t, status: 'changed', from };
}

async function applyDeployment(apis: Apis, t: Target, opts: ApplyOptions): Promise<Outcome> {
  const read = callOptions(opts.requestTimeoutMs);
  const scale = await withRetries(opts.attempts, () =>
    apis.apps.readNamespacedDeploymentScale({ name: t.name, namespace: t.namespace }, read),
  );
  const from = scale.spec?.replicas ?? 0;
  if (from === t.value) return { kind: 'deployment', target: t, status: 'unchanged', from };
  const patch = callOptions(opts.requestTimeoutMs, PatchStrategy.MergePatch);
  await withRetries(opts.attempts, () =>
    apis.apps.patchNamespacedDeploymentScale(
      {
        name: t.name,
        namespace: t.namespace,
        body: { spec: { replicas: t.value } },
        fieldManager: 'eta-prescaler',
      },
      patch,
    ),
  );
  return { kind: 'deployment', target: t, status: 'changed', from };
}

/**
 * Applies every target of the plan, one after another, and goes on past a failed one: a peak is better
 * met with three of four roles raised than with none. Placeholders first, so nodes start coming up
 * while the HPAs are raised. Returns every outcome; the caller turns any failure into a failed Job.
 */
export async function applyPlan(apis: Apis, plan: Plan, opts: ApplyOptions): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const steps = [
    ...plan.deployments.map((t) => ['deployment', t] as const),
    ...plan.hpas.map((t) => ['hpa', t] as const),
  ];
  for (const [kind, t] of steps) {
    let outcome: Outcome;
    try {
      outcome = kind === 'hpa' ? await applyHpa(apis, t, opts) : await applyDeployment(apis, t, opts);
    } catch (err) {
      outcome = { kind, target: t, status: 'failed', ...describe(err) };
    }
    opts.log(outcome);
    outcomes.push(outcome);
  }
  return outcomes;
}
