/**
 * eta-prescaler: sets HPA minReplicas and placeholder Deployment replicas to the values given, once, and
 * exits. The suite chart's CronJobs run it before and after the lunch and dinner peaks (charts/suite,
 * values `prescale.schedules`), with a ServiceAccount that may get and patch only the objects named here.
 *
 *   node src/main.ts [--namespace NS] --hpa [NS/]NAME=MIN ... --deployment [NS/]NAME=REPLICAS ...
 *
 * In a pod it uses the pod's ServiceAccount; elsewhere KUBECONFIG or ~/.kube/config. Exit 0 when every
 * target holds its value, 1 when any failed (the Job's backoffLimit retries; every step is idempotent),
 * 2 on a command line it cannot act on.
 */
import { parseArgs } from 'node:util';
import { AppsV1Api, AutoscalingV2Api, KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { applyPlan, type Outcome } from './apply.ts';
import { parsePlan, UsageError } from './plan.ts';

const USAGE = `usage: prescaler [--namespace NS] [--timeout-ms MS] --hpa [NS/]NAME=MIN ... --deployment [NS/]NAME=REPLICAS ...
  --hpa         an autoscaling/v2 HorizontalPodAutoscaler and the spec.minReplicas it should have (>= 1)
  --deployment  a Deployment (a peak placeholder) and the spec.replicas it should have, via deployments/scale
  --namespace   namespace of targets given without one (default: the pod's own namespace, else "default")
  --timeout-ms  deadline of each call to the API server (default 10000)`;

const SA_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

async function ownNamespace(): Promise<string> {
  try {
    const { readFile } = await import('node:fs/promises');
    return (await readFile(SA_NAMESPACE_FILE, 'utf8')).trim() || 'default';
  } catch {
    return 'default';
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  const log = pino({ name: 'prescaler', base: { service: 'prescaler' } });
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        namespace: { type: 'string' },
        hpa: { type: 'string', multiple: true, default: [] },
        deployment: { type: 'string', multiple: true, default: [] },
        'timeout-ms': { type: 'string', default: '10000' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let plan;
  const timeoutMs = Number(values['timeout-ms']);
  try {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 300_000) {
      throw new UsageError(
        `--timeout-ms ${values['timeout-ms']}: expected a whole number of ms in 100..300000`,
      );
    }
    plan = parsePlan(values.hpa, values.deployment, values.namespace ?? (await ownNamespace()));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${USAGE}`);
    return 2;
  }

  const kc = new KubeConfig();
  kc.loadFromDefault();
  const apis = { autoscaling: kc.makeApiClient(AutoscalingV2Api), apps: kc.makeApiClient(AppsV1Api) };
  const outcomes = await applyPlan(apis, plan, {
    requestTimeoutMs: timeoutMs,
    attempts: 3,
    log: (o: Outcome) => {
      const at = { kind: o.kind, namespace: o.target.namespace, name: o.target.name, to: o.target.value };
      if (o.status === 'failed') log.error({ ...at, code: o.code, error: o.error }, 'prescale target failed');
      else log.info({ ...at, from: o.from, status: o.status }, `prescale target ${o.status}`);
    },
  });
  const failed = outcomes.filter((o) => o.status === 'failed').length;
  log.info(
    { targets: outcomes.length, failed },
    failed === 0 ? 'prescale done' : 'prescale finished with failures',
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  // Exit as soon as the work is done: a request aborted by its deadline can leave a half-open TLS socket
  // that would otherwise keep the Job's pod running for no reason. pino writes stdout synchronously.
  process.exit(await main(process.argv.slice(2)));
}
