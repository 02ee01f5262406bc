/**
 * What one pre-scaling run sets: absolute values, so a rerun (a retried Job, two CronJobs firing close
 * together, a human running it by hand) lands on the same state instead of adding up.
 */
export interface Target {
  readonly namespace: string;
  readonly name: string;
  /** HPA: the new spec.minReplicas; Deployment: the new spec.replicas (through the scale subresource). */
  readonly value: number;
}

export interface Plan {
  readonly hpas: readonly Target[];
  readonly deployments: readonly Target[];
}

/** A command line the command cannot act on; main prints it with the usage and exits 2. */
export class UsageError extends Error {}

// RFC 1123 names, as the API server checks them (HPAs and Deployments are DNS subdomains; namespaces labels).
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** The API server's own bound on replicas (int32); far above any real pre-scale. */
const MAX_REPLICAS = 2_147_483_647;

/** Parses `[namespace/]name=N`; `min` is 1 for an HPA's minReplicas, 0 for a placeholder Deployment. */
export function parseTarget(spec: string, defaultNamespace: string, min: number): Target {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`"${spec}": expected [namespace/]name=N`);
  const ref = spec.slice(0, eq);
  const count = spec.slice(eq + 1);
  const slash = ref.indexOf('/');
  const namespace = slash === -1 ? defaultNamespace : ref.slice(0, slash);
  const name = slash === -1 ? ref : ref.slice(slash + 1);
  if (!NAMESPACE.test(namespace)) throw new UsageError(`"${spec}": "${namespace}" is not a namespace name`);
  if (!NAME.test(name)) throw new UsageError(`"${spec}": "${name}" is not an object name`);
  if (!/^\d+$/.test(count)) throw new UsageError(`"${spec}": "${count}" is not a whole number`);
  const value = Number(count);
  if (value < min || value > MAX_REPLICAS) {
    throw new UsageError(`"${spec}": ${value} is out of range (${min}..${MAX_REPLICAS})`);
  }
  return { namespace, name, value };
}

export function parsePlan(hpas: readonly string[], deployments: readonly string[], namespace: string): Plan {
  if (hpas.length === 0 && deployments.length === 0) {
    throw new UsageError('nothing to do: give at least one --hpa or --deployment');
  }
  const plan = {
    hpas: hpas.map((s) => parseTarget(s, namespace, 1)),
    deployments: deployments.map((s) => parseTarget(s, namespace, 0)),
  };
  for (const [kind, list] of [
    ['--hpa', plan.hpas],
    ['--deployment', plan.deployments],
  ] as const) {
    const seen = new Set<string>();
    for (const t of list) {
      const key = `${t.namespace}/${t.name}`;
      // Two values for one object would leave the outcome to the order of the flags.
      if (seen.has(key)) throw new UsageError(`${kind} ${key} is given twice`);
      seen.add(key);
    }
  }
  return plan;
}
